-- Why answers were escalated (validator reason codes) by the tier that gave them, in the time range.
SELECT from_tier, reason, count() AS escalations
FROM llm.escalations FINAL
WHERE escalated_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY from_tier, reason
ORDER BY from_tier, escalations DESC

-- Why answers were escalated (validator reason codes) by the tier that gave them, last 7 days.
SELECT from_tier, reason, count() AS escalations
FROM llm.escalations FINAL
WHERE escalated_at >= now() - INTERVAL 7 DAY
GROUP BY from_tier, reason
ORDER BY from_tier, escalations DESC

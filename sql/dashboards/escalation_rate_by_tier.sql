-- Escalation rate by starting tier with the routing survey's bands: < 20% healthy, 20-40% watch, > 40% act (in the time range).
SELECT classified_tier AS start_tier, count() AS requests, countIf(escalations > 0) AS escalated,
       round(100 * escalated / requests, 1) AS escalation_pct,
       multiIf(escalation_pct < 20, 'healthy', escalation_pct <= 40, 'watch', 'act') AS band
FROM llm.requests FINAL
WHERE status = 'ok' AND classified_tier > 0 AND completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY start_tier
ORDER BY start_tier

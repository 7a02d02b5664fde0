-- Cascade economics per tier pair (in the time range): escalation rate with bands, and whether it pays (rate < 1 - c_weak / c_strong).
SELECT p.from_tier AS from_tier, p.to_tier AS to_tier, p.escalations AS escalations, d.decisions AS routed_at_from_tier,
       round(100 * p.escalations / d.decisions, 1) AS escalation_pct,
       multiIf(escalation_pct < 20, 'healthy', escalation_pct <= 40, 'watch', 'act') AS band,
       round(cw.c, 8) AS cost_weak_usd, round(cs.c, 8) AS cost_strong_usd,
       round(100 * (1 - cw.c / cs.c), 1) AS break_even_pct,
       if(escalation_pct < break_even_pct, 'yes', 'no') AS cascade_pays
FROM
(
    SELECT from_tier, to_tier, count() AS escalations
    FROM llm.escalations FINAL
    WHERE escalated_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY from_tier, to_tier
) AS p
INNER JOIN
(
    SELECT tier, count() AS decisions
    FROM llm.decisions FINAL
    WHERE decided_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY tier
) AS d ON d.tier = p.from_tier
LEFT JOIN
(
    SELECT tier, avg(toFloat64(cost_usd)) AS c FROM llm.attempts FINAL
    WHERE status = 'ok' AND started_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String}) GROUP BY tier
) AS cw ON cw.tier = p.from_tier
LEFT JOIN
(
    SELECT tier, avg(toFloat64(cost_usd)) AS c FROM llm.attempts FINAL
    WHERE status = 'ok' AND started_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String}) GROUP BY tier
) AS cs ON cs.tier = p.to_tier
ORDER BY from_tier, to_tier

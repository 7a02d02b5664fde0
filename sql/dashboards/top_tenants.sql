-- Tenants by spend this month, with requests and share of the month's total.
SELECT tenant, count() AS requests, round(toFloat64(sum(cost_usd)), 6) AS cost_usd,
       round(100 * cost_usd / greatest((SELECT toFloat64(sum(cost_usd)) FROM llm.requests FINAL
                                         WHERE completed_at >= toStartOfMonth(now())), 1e-12), 1) AS share_pct
FROM llm.requests FINAL
WHERE completed_at >= toStartOfMonth(now()) AND tenant != ''
GROUP BY tenant
ORDER BY cost_usd DESC
LIMIT 20

-- Tenants by spend this month, with requests and share of the month's total (from the daily rollup).
SELECT tenant, sum(requests) AS requests, round(toFloat64(sum(cost_usd)), 6) AS cost_usd,
       round(100 * cost_usd / greatest((SELECT toFloat64(sum(cost_usd)) FROM llm.requests_daily
                                         WHERE day >= toStartOfMonth(today())), 1e-12), 1) AS share_pct
FROM llm.requests_daily
WHERE day >= toStartOfMonth(today()) AND tenant != '' AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY tenant
ORDER BY cost_usd DESC
LIMIT 20

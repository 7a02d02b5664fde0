-- Budget burn-down: each tenant's cumulative spend this month per day against its monthly budget (daily rollup).
SELECT day, tenant, round(spent_to_date, 6) AS spent_to_date_usd, monthly_usd,
       round(100 * spent_to_date / nullIf(monthly_usd, 0), 1) AS used_pct
FROM
(
    SELECT d.day AS day, d.tenant AS tenant,
           sum(d.cost) OVER (PARTITION BY d.tenant ORDER BY d.day) AS spent_to_date,
           if(b.tenant = '', dflt.monthly_usd, b.monthly_usd) AS monthly_usd  -- no row of its own: the default
    FROM
    (
        SELECT day, tenant, toFloat64(sum(cost_usd)) AS cost
        FROM llm.requests_daily
        WHERE day >= toStartOfMonth(today()) AND tenant != '' AND ({tenant:String} = '' OR tenant = {tenant:String})
        GROUP BY day, tenant
    ) AS d
    LEFT JOIN (SELECT tenant, monthly_usd FROM llm.tenant_budgets FINAL) AS b ON b.tenant = d.tenant
    CROSS JOIN (SELECT any(monthly_usd) AS monthly_usd FROM llm.tenant_budgets FINAL WHERE tenant = 'default') AS dflt
)
ORDER BY tenant, day

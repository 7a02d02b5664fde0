-- Cost and requests per day by tenant, model, tier and task (last 30 days; from the daily rollup).
SELECT day, tenant, if(model = '', '(none)', model) AS model, tier, if(task = '', '(none)', task) AS task,
       sum(requests) AS requests, round(toFloat64(sum(cost_usd)), 6) AS cost_usd
FROM llm.requests_daily
WHERE day >= today() - 30
GROUP BY day, tenant, model, tier, task
ORDER BY day DESC, cost_usd DESC

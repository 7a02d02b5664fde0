-- Cost and requests per day by tenant, model, tier and task (in the time range; from the daily rollup).
SELECT day, tenant, if(model = '', '(none)', model) AS model, tier, if(task = '', '(none)', task) AS task,
       sum(requests) AS requests, round(toFloat64(sum(cost_usd)), 6) AS cost_usd
FROM llm.requests_daily
WHERE day BETWEEN toDate({from:DateTime}) AND toDate({to:DateTime}) AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY day, tenant, model, tier, task
ORDER BY day DESC, cost_usd DESC

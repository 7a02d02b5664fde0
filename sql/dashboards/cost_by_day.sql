-- Cost and requests per day by tenant, model, tier and task (last 30 days).
SELECT toDate(completed_at) AS day, tenant, if(model = '', '(none)', model) AS model, final_tier AS tier,
       if(task_type = '', '(none)', task_type) AS task, count() AS requests,
       round(toFloat64(sum(cost_usd)), 6) AS cost_usd
FROM llm.requests FINAL
WHERE completed_at >= now() - INTERVAL 30 DAY
GROUP BY day, tenant, model, tier, task
ORDER BY day DESC, cost_usd DESC

-- Cost per minute by final model over the last 24 hours (for the report's chart).
SELECT toStartOfMinute(completed_at) AS minute, if(model = '', '(none)', model) AS model,
       round(toFloat64(sum(cost_usd)), 6) AS cost_usd, count() AS requests
FROM llm.requests FINAL
WHERE completed_at >= now() - INTERVAL 24 HOUR
GROUP BY minute, model
ORDER BY minute, model

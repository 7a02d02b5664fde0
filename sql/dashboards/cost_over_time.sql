-- Cost over the last 24 hours by final model, in about 40 time buckets (1 s at the finest) for the report's chart.
WITH (
    SELECT greatest(1, intDiv(toUInt32(greatest(dateDiff('second', min(completed_at), max(completed_at)), 1)), 40))
    FROM llm.requests
    WHERE completed_at >= now() - INTERVAL 24 HOUR
) AS bucket_s
SELECT toStartOfInterval(completed_at, toIntervalSecond(bucket_s)) AS minute, if(model = '', '(none)', model) AS model,
       round(toFloat64(sum(cost_usd)), 6) AS cost_usd, count() AS requests
FROM llm.requests FINAL
WHERE completed_at >= now() - INTERVAL 24 HOUR
GROUP BY minute, model
ORDER BY minute, model

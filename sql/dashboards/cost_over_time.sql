-- Cost by final model over the time range, in about 40 time buckets (1 s at the finest).
WITH (
    SELECT greatest(1, intDiv(toUInt32(greatest(dateDiff('second', min(completed_at), max(completed_at)), 1)), 40))
    FROM llm.requests
    WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
) AS bucket_s
SELECT toStartOfInterval(completed_at, toIntervalSecond(bucket_s)) AS minute, if(model = '', '(none)', model) AS model,
       round(toFloat64(sum(cost_usd)), 6) AS cost_usd, count() AS requests
FROM llm.requests FINAL
WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY minute, model
ORDER BY minute, model

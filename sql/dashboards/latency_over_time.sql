-- End-to-end latency percentiles (p50, p95, p99 ms) of answered requests over the time range, in about 40 buckets.
WITH (
    SELECT greatest(1, intDiv(toUInt32(greatest(dateDiff('second', min(completed_at), max(completed_at)), 1)), 40))
    FROM llm.requests
    WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
) AS bucket_s
SELECT toStartOfInterval(completed_at, toIntervalSecond(bucket_s)) AS time,
       round(quantile(0.5)(latency_ms)) AS p50_ms, round(quantile(0.95)(latency_ms)) AS p95_ms,
       round(quantile(0.99)(latency_ms)) AS p99_ms
FROM llm.requests FINAL
WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY time
ORDER BY time

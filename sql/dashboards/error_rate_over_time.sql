-- Share of requests answered with an error (%) and of those refused as invalid, over the time range.
WITH (
    SELECT greatest(1, intDiv(toUInt32(greatest(dateDiff('second', min(completed_at), max(completed_at)), 1)), 40))
    FROM llm.requests
    WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
) AS bucket_s
SELECT toStartOfInterval(completed_at, toIntervalSecond(bucket_s)) AS time,
       round(100 * avg(status = 'error'), 2) AS error_pct,
       round(100 * avg(error_code IN ('invalid_request', 'payload_too_large')), 2) AS refused_pct
FROM llm.requests FINAL
WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY time
ORDER BY time

-- Share of requests escalated at least once (%) and escalations per request, over the time range.
WITH (
    SELECT greatest(1, intDiv(toUInt32(greatest(dateDiff('second', min(completed_at), max(completed_at)), 1)), 40))
    FROM llm.requests
    WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
) AS bucket_s
SELECT toStartOfInterval(completed_at, toIntervalSecond(bucket_s)) AS time,
       round(100 * avg(escalations > 0), 2) AS escalated_pct,
       round(avg(escalations), 3) AS escalations_per_request
FROM llm.requests FINAL
WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY time
ORDER BY time

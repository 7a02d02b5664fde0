-- Provider calls, error rate, fallback share and the most common error per provider (in the time range).
SELECT provider, count() AS calls, countIf(status = 'error') AS errors,
       round(100 * errors / calls, 2) AS error_pct, round(100 * countIf(fallback = 1) / calls, 2) AS fallback_pct,
       topKIf(1)(error_code, status = 'error')[1] AS top_error
FROM llm.attempts FINAL
WHERE started_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY provider
ORDER BY calls DESC

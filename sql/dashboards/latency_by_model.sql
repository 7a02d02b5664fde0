-- Provider call latency p50/p95/p99 by model (successful attempts) and end-to-end by final model (in the time range).
SELECT a.model AS model, a.calls AS calls, a.p50 AS call_p50_ms, a.p95 AS call_p95_ms, a.p99 AS call_p99_ms,
       r.p50 AS e2e_p50_ms, r.p95 AS e2e_p95_ms, r.p99 AS e2e_p99_ms
FROM
(
    SELECT model, count() AS calls, round(quantile(0.5)(latency_ms)) AS p50, round(quantile(0.95)(latency_ms)) AS p95,
           round(quantile(0.99)(latency_ms)) AS p99
    FROM llm.attempts FINAL
    WHERE status = 'ok' AND started_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY model
) AS a
LEFT JOIN
(
    SELECT model, round(quantile(0.5)(latency_ms)) AS p50, round(quantile(0.95)(latency_ms)) AS p95,
           round(quantile(0.99)(latency_ms)) AS p99
    FROM llm.requests FINAL
    WHERE status = 'ok' AND completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY model
) AS r USING (model)
ORDER BY calls DESC

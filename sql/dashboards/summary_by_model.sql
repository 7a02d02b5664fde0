-- Requests, cost, latency percentiles and escalation rate by the model that gave the final answer.
SELECT
    if(model = '', '(none)', model)                                   AS model,
    count()                                                           AS requests,
    countIf(status = 'ok')                                            AS ok,
    round(toFloat64(sum(cost_usd)), 6)                                         AS cost_usd,
    round(quantile(0.5)(latency_ms))                                  AS p50_ms,
    round(quantile(0.95)(latency_ms))                                 AS p95_ms,
    round(100 * avg(escalations > 0), 1)                              AS escalated_pct
FROM llm.requests FINAL
WHERE startsWith(request_id, {prefix:String}) AND completed_at BETWEEN {from:DateTime} AND {to:DateTime}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY model
ORDER BY cost_usd DESC

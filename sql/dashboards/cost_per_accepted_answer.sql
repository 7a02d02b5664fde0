-- Cost per accepted answer (ok, not best-effort) by final model and tier, retries and escalations included (in the time range).
SELECT if(model = '', '(none)', model) AS model, final_tier AS tier,
       countIf(status = 'ok' AND best_effort = 0) AS accepted,
       round(toFloat64(sum(cost_usd)), 6) AS cost_usd,
       round(cost_usd / greatest(accepted, 1), 8) AS cost_per_accepted_usd
FROM llm.requests FINAL
WHERE completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY model, tier
ORDER BY accepted DESC

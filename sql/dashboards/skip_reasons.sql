-- Why candidate models were passed over, per hour (breaker open, privacy, budget, context window, ...).
SELECT toStartOfHour(decided_at) AS hour, reason, count() AS skips, uniqExact(request_id) AS requests
FROM llm.decisions FINAL
ARRAY JOIN candidate_skips AS reason
WHERE reason NOT IN ('', 'not_cheapest', 'higher_tier', 'below_tier', 'more_loaded')
  AND startsWith(request_id, {prefix:String}) AND decided_at BETWEEN {from:DateTime} AND {to:DateTime}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY hour, reason
ORDER BY hour DESC, skips DESC

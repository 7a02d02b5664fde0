-- Circuit breaker state changes, newest first.
SELECT ts, model, old_state, new_state, reason, worker
FROM llm.control_events FINAL
WHERE kind = 'breaker' AND ts BETWEEN {from:DateTime} AND {to:DateTime}
ORDER BY ts DESC
LIMIT 200

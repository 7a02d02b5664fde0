-- Rows and distinct request ids per table for a request-id prefix (used to check nothing is lost).
SELECT 'requests' AS table, count() AS rows, uniqExact(request_id) AS ids
FROM llm.requests FINAL WHERE startsWith(request_id, {prefix:String})
UNION ALL
SELECT 'attempts', count(), uniqExact(request_id) FROM llm.attempts FINAL WHERE startsWith(request_id, {prefix:String})
UNION ALL
SELECT 'decisions', count(), uniqExact(request_id) FROM llm.decisions FINAL WHERE startsWith(request_id, {prefix:String})
UNION ALL
SELECT 'escalations', count(), uniqExact(request_id) FROM llm.escalations FINAL WHERE startsWith(request_id, {prefix:String})

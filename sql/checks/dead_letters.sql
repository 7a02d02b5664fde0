-- Messages set aside (DLQ), by stage, source topic and reason code, for a request-id or topic prefix.
SELECT stage, source_topic, splitByString(': ', reason)[1] AS code, count() AS n, any(reason) AS example
FROM llm.dead_letters FINAL
WHERE startsWith(request_id, {prefix:String}) OR startsWith(source_topic, {prefix:String})
GROUP BY stage, source_topic, code
ORDER BY stage, source_topic, code

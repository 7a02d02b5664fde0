-- Final status and error code counts.
SELECT status, error_code, count() AS requests
FROM llm.requests FINAL
WHERE startsWith(request_id, {prefix:String}) AND completed_at BETWEEN {from:DateTime} AND {to:DateTime}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY status, error_code
ORDER BY requests DESC

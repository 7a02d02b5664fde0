-- Requests counted by the daily rollup for one tenant (each request once, replays included).
SELECT tenant, sum(requests) AS requests
FROM llm.requests_daily
WHERE tenant = {tenant:String}
GROUP BY tenant

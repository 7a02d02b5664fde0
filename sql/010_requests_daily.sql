-- Daily rollup for the cost dashboards, kept current by a materialized view. It sums inserted rows;
-- the sink writes one requests row per request id (replays of recent ones are skipped, see
-- agents/sink.py), so each request counts once.
CREATE TABLE IF NOT EXISTS llm.requests_daily
(
    day        Date,
    tenant     LowCardinality(String),
    model      LowCardinality(String),
    tier       UInt8,
    task       LowCardinality(String),
    requests   SimpleAggregateFunction(sum, UInt64),
    cost_usd   SimpleAggregateFunction(sum, Decimal(38, 9))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, tenant, model, tier, task);

CREATE MATERIALIZED VIEW IF NOT EXISTS llm.requests_daily_mv TO llm.requests_daily AS
SELECT toDate(completed_at) AS day, tenant, model, final_tier AS tier, task_type AS task,
       count() AS requests, toDecimal128(sum(cost_usd), 9) AS cost_usd
FROM llm.requests
GROUP BY day, tenant, model, tier, task;

INSERT INTO llm.requests_daily
SELECT toDate(completed_at) AS day, tenant, model, final_tier AS tier, task_type AS task,
       count() AS requests, toDecimal128(sum(cost_usd), 9) AS cost_usd
FROM llm.requests FINAL
GROUP BY day, tenant, model, tier, task

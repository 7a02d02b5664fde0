-- Operational events: circuit breaker state changes (and later budget and health events).
CREATE TABLE IF NOT EXISTS llm.control_events
(
    ts          DateTime64(3, 'UTC'),
    kind        LowCardinality(String),
    model       LowCardinality(String),
    old_state   LowCardinality(String),
    new_state   LowCardinality(String),
    reason      String,
    worker      LowCardinality(String),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (kind, model, ts, worker);

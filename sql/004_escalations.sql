-- One row per escalation: a rejected answer re-entering routing one tier up.
CREATE TABLE IF NOT EXISTS llm.escalations
(
    request_id    String,
    round         UInt8,
    escalated_at  DateTime64(3, 'UTC'),
    tenant        LowCardinality(String),
    from_model    LowCardinality(String),
    from_tier     UInt8,
    to_tier       UInt8,
    reason        LowCardinality(String),
    score         Float32,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(escalated_at)
ORDER BY (tenant, from_tier, toStartOfHour(escalated_at), request_id, round);

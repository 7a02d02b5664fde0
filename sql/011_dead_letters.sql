-- Messages the pipeline refused and set aside (never silently dropped): internal events a stage
-- found malformed or impossible, outputs too large for Kafka, outcome rows ClickHouse refused.
-- The message itself is on the DLQ topic named by dlq_topic (for stages, the source offset is recorded;
-- for rows the sink refused it is 0, and the row is in the DLQ record).
CREATE TABLE IF NOT EXISTS llm.dead_letters
(
    ts            DateTime64(3, 'UTC'),
    stage         LowCardinality(String),
    source_topic  LowCardinality(String),
    partition     UInt16,
    offset        UInt64,
    request_id    String,
    reason        String,
    dlq_topic     LowCardinality(String),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (stage, source_topic, partition, offset, request_id, cityHash64(reason));

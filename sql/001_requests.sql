-- One row per request: its final outcome. Redelivery can write a row twice; the
-- ReplacingMergeTree keeps the newest version (read with FINAL for exact counts).
CREATE TABLE IF NOT EXISTS llm.requests
(
    request_id          String,
    tenant              LowCardinality(String),
    received_at         DateTime64(3, 'UTC'),
    completed_at        DateTime64(3, 'UTC'),
    status              LowCardinality(String),
    error_code          LowCardinality(String),
    task_type           LowCardinality(String),
    classified_tier     UInt8,
    final_tier          UInt8,
    model               LowCardinality(String),
    provider            LowCardinality(String),
    input_tokens        UInt32,
    output_tokens       UInt32,
    cost_usd            Decimal(18, 9),
    latency_ms          UInt32,
    attempts            UInt8,
    escalations         UInt8,
    fallbacks           UInt8,
    verification_score  Float32,
    best_effort         UInt8,
    classifier_version  LowCardinality(String),
    version             UInt64,
    INDEX idx_request_id request_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant, toStartOfHour(received_at), request_id);

-- One row per provider call (retries and fallbacks included).
CREATE TABLE IF NOT EXISTS llm.attempts
(
    request_id      String,
    attempt_no      UInt16,
    started_at      DateTime64(3, 'UTC'),
    tenant          LowCardinality(String),
    model           LowCardinality(String),
    provider        LowCardinality(String),
    tier            UInt8,
    status          LowCardinality(String),
    error_code      LowCardinality(String),
    http_status     UInt16,
    latency_ms      Float32,
    input_tokens    UInt32,
    output_tokens   UInt32,
    cost_usd        Decimal(18, 9),
    finish_reason   LowCardinality(String),
    fallback        UInt8,
    version         UInt64,
    INDEX idx_request_id request_id TYPE bloom_filter(0.001) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (provider, model, toStartOfHour(started_at), request_id, attempt_no);

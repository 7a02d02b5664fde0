-- Prompt text, only when ROUTER_STORE_PROMPTS is on: PII redacted, and the text itself expires
-- after 30 days (the row keeps its labels). Used to retrain the classifier from real traffic.
CREATE TABLE IF NOT EXISTS llm.request_texts
(
    request_id    String,
    tenant        LowCardinality(String),
    received_at   DateTime64(3, 'UTC'),
    task_hint     LowCardinality(String),
    text          String CODEC(ZSTD(3)) TTL toDateTime(received_at) + INTERVAL 30 DAY,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant, toStartOfDay(received_at), request_id);

-- Reference data the dashboards join with, written by the sink at start-up from the catalog:
-- model prices (for savings versus the strongest model) and tenant budgets (for burn-down).
CREATE TABLE IF NOT EXISTS llm.model_prices
(
    model            LowCardinality(String),
    provider         LowCardinality(String),
    tier             UInt8,
    input_per_mtok   Float64,
    output_per_mtok  Float64,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY model;

CREATE TABLE IF NOT EXISTS llm.tenant_budgets
(
    tenant       LowCardinality(String),
    daily_usd    Float64,
    monthly_usd  Float64,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY tenant;

-- Feedback from downstream consumers (llm.feedback.v1), joined to requests for retraining.
CREATE TABLE IF NOT EXISTS llm.feedback
(
    request_id   String,
    received_at  DateTime64(3, 'UTC'),
    score        Nullable(Float32),
    label        LowCardinality(String),
    source       LowCardinality(String),
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(received_at)
ORDER BY (request_id, source);

-- One row per routing decision: every candidate, why each was skipped, what was chosen.
CREATE TABLE IF NOT EXISTS llm.decisions
(
    request_id             String,
    round                  UInt8,
    decided_at             DateTime64(3, 'UTC'),
    tenant                 LowCardinality(String),
    task_type              LowCardinality(String),
    classifier_confidence  Float32,
    target_tier            UInt8,
    model                  LowCardinality(String),
    tier                   UInt8,
    expected_cost_usd      Float64,
    reason                 String,
    candidate_models       Array(LowCardinality(String)),
    candidate_tiers        Array(UInt8),
    candidate_costs        Array(Float64),
    candidate_skips        Array(LowCardinality(String)),
    version                UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(decided_at)
ORDER BY (tenant, toStartOfHour(decided_at), request_id, round);

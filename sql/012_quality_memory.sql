-- The quality memory (issue 13). Each routing decision records every candidate's estimated
-- P(acceptable answer), the evidence behind it and whether the choice explored; each verdict on an
-- answer (the verifier's, an escalation's) is a row the memory learned from.
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS candidate_quality Array(Float32);
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS candidate_evidence Array(Float32);
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS explored UInt8;

CREATE TABLE IF NOT EXISTS llm.verdicts
(
    request_id  String,
    round       UInt8,
    judged_at   DateTime64(3, 'UTC'),
    tenant      LowCardinality(String),
    model       LowCardinality(String),
    tier        UInt8,
    accepted    UInt8,
    score       Float32,
    reason      LowCardinality(String),
    source      LowCardinality(String),
    prior       Float32,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(judged_at)
ORDER BY (model, toStartOfHour(judged_at), request_id, round);

-- What the classifier saw per window (per worker), next to the share each bucket had in training.
CREATE TABLE IF NOT EXISTS llm.classifier_drift
(
    window_start    DateTime64(3, 'UTC'),
    model_version   LowCardinality(String),
    worker          LowCardinality(String),
    dimension       LowCardinality(String),
    bucket          LowCardinality(String),
    count           UInt32,
    expected_share  Float64,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_version, dimension, window_start, bucket, worker);

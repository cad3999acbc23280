-- One row per submitted OT operation: how far it was transformed, whether it was rejected, how long it took.
CREATE TABLE IF NOT EXISTS operation_metrics (
    ts DateTime64(3, 'UTC'),
    document_id String,
    user_id UInt64,
    client_id Int64,
    revision UInt32,
    transformed_over UInt32,
    rejected UInt8,
    reason LowCardinality(String),
    apply_ms Float32
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, document_id)
TTL toDateTime(ts) + INTERVAL 90 DAY;

-- One row per limited request or WebSocket frame; the key is hashed, never stored plain.
CREATE TABLE IF NOT EXISTS rate_limit_hits (
    ts DateTime64(3, 'UTC'),
    limit_name LowCardinality(String),
    route LowCardinality(String),
    method LowCardinality(String),
    key_kind LowCardinality(String),
    key_hash String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, limit_name)
TTL toDateTime(ts) + INTERVAL 90 DAY;

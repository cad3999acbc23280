-- One row per HTTP request: the overview's rate, latency and 5xx by route.
CREATE TABLE IF NOT EXISTS request_metrics (
    ts DateTime64(3, 'UTC'),
    route LowCardinality(String),
    method LowCardinality(String),
    status UInt16,
    duration_ms Float32
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, route)
TTL toDateTime(ts) + INTERVAL 30 DAY;

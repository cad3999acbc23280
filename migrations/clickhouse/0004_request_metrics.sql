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

-- The dashboard's read models: every chart reads a table ordered by time first, so a query touches
-- only its window. Minutes serve the short ranges (15 min to 6 h), hours the long ones (24 h to 30 d).

-- Hourly request figures by route (latency as t-digest states, mergeable across hours).
CREATE TABLE IF NOT EXISTS request_metrics_hourly (
    hour DateTime('UTC'),
    route LowCardinality(String),
    method LowCardinality(String),
    requests SimpleAggregateFunction(sum, UInt64),
    errors_5xx SimpleAggregateFunction(sum, UInt64),
    duration AggregateFunction(quantilesTDigest(0.5, 0.95), Float32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, route, method)
TTL hour + INTERVAL 30 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS request_metrics_hourly_mv TO request_metrics_hourly AS
SELECT toStartOfHour(ts) AS hour, route, method, toUInt64(count()) AS requests,
       toUInt64(countIf(status >= 500)) AS errors_5xx, quantilesTDigestState(0.5, 0.95)(duration_ms) AS duration
FROM request_metrics
GROUP BY hour, route, method;

-- Error events per minute and group: the short ranges' trends and top groups (raw events are
-- ordered by group, so a time window there reads most of the table). Kept two days.
CREATE TABLE IF NOT EXISTS error_group_minute (
    minute DateTime('UTC'),
    group_id String,
    source LowCardinality(String),
    severity LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    occurrences SimpleAggregateFunction(sum, UInt64),
    users AggregateFunction(uniq, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (minute, group_id, source, severity)
TTL minute + INTERVAL 2 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS error_group_minute_mv TO error_group_minute AS
SELECT toStartOfMinute(ts) AS minute, group_id, source, severity, toUInt64(count()) AS events,
       toUInt64(sum(occurrences)) AS occurrences, uniqState(user_id) AS users,
       min(ts) AS first_seen, max(ts) AS last_seen
FROM error_events
GROUP BY minute, group_id, source, severity;

-- Rate-limit hits per hour, limit, route and key: the long ranges' series and most limited keys.
CREATE TABLE IF NOT EXISTS rate_limit_hits_hourly (
    hour DateTime('UTC'),
    limit_name LowCardinality(String),
    route LowCardinality(String),
    key_kind LowCardinality(String),
    key_hash String,
    hits SimpleAggregateFunction(sum, UInt64),
    last_hit SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, limit_name, route, key_kind, key_hash)
TTL hour + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS rate_limit_hits_hourly_mv TO rate_limit_hits_hourly AS
SELECT toStartOfHour(ts) AS hour, limit_name, route, key_kind, key_hash, toUInt64(count()) AS hits,
       max(ts) AS last_hit
FROM rate_limit_hits
GROUP BY hour, limit_name, route, key_kind, key_hash;

-- Document operations per hour and rejection reason ('' for applied ones): the long ranges'
-- rate, conflict rate, apply latency (applied operations only), documents and editors.
CREATE TABLE IF NOT EXISTS operation_metrics_hourly (
    hour DateTime('UTC'),
    reason LowCardinality(String),
    operations SimpleAggregateFunction(sum, UInt64),
    transformed_ops SimpleAggregateFunction(sum, UInt64),
    rejected_ops SimpleAggregateFunction(sum, UInt64),
    apply_latency AggregateFunction(quantilesTDigestIf(0.5, 0.95), Float32, UInt8),
    documents AggregateFunction(uniq, String),
    editors AggregateFunction(uniq, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, reason)
TTL hour + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS operation_metrics_hourly_mv TO operation_metrics_hourly AS
SELECT toStartOfHour(ts) AS hour, reason, toUInt64(count()) AS operations,
       toUInt64(countIf(transformed_over >= 1)) AS transformed_ops, toUInt64(countIf(rejected != 0)) AS rejected_ops,
       quantilesTDigestIfState(0.5, 0.95)(apply_ms, rejected = 0) AS apply_latency,
       uniqState(document_id) AS documents, uniqState(user_id) AS editors
FROM operation_metrics
GROUP BY hour, reason;

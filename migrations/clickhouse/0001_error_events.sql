-- Every error event, one row per reported item; `occurrences` is summed, never count()ed.
CREATE TABLE IF NOT EXISTS error_events (
    event_id UUID,
    project_id UInt32 DEFAULT 0,
    group_id String,
    ts DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    user_id UInt64 DEFAULT 0,
    source LowCardinality(String),
    severity LowCardinality(String),
    message String,
    context String DEFAULT '{}',
    occurrences UInt32 DEFAULT 1,
    platform LowCardinality(String) DEFAULT '',
    release LowCardinality(String) DEFAULT '',
    environment LowCardinality(String) DEFAULT '',
    tags Map(String, String),
    exception_type String DEFAULT '',
    exception_value String DEFAULT ''
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (group_id, ts)
TTL toDateTime(ts) + INTERVAL {event_ttl_days} DAY;

-- Hourly totals per group: what lists, stats and trends read instead of the raw events.
CREATE TABLE IF NOT EXISTS error_group_hourly (
    hour DateTime('UTC'),
    project_id UInt32,
    group_id String,
    source LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    occurrences SimpleAggregateFunction(sum, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, group_id, source, project_id)
TTL hour + INTERVAL {event_ttl_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS error_group_hourly_mv TO error_group_hourly AS
SELECT toStartOfHour(ts) AS hour, project_id, group_id, source,
       toUInt64(count()) AS events, toUInt64(sum(occurrences)) AS occurrences,
       min(ts) AS first_seen, max(ts) AS last_seen
FROM error_events
GROUP BY hour, project_id, group_id, source;

-- Daily totals and distinct-user states per group: long windows read ~24x fewer rows, and
-- ordered by group, a page's groups read only their own user states.
CREATE TABLE IF NOT EXISTS error_group_daily (
    day DateTime('UTC'),
    project_id UInt32,
    group_id String,
    source LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    occurrences SimpleAggregateFunction(sum, UInt64),
    users AggregateFunction(uniq, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (group_id, day, source, project_id)
TTL day + INTERVAL {event_ttl_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS error_group_daily_mv TO error_group_daily AS
SELECT toDateTime(toStartOfDay(ts), 'UTC') AS day, project_id, group_id, source,
       toUInt64(count()) AS events, toUInt64(sum(occurrences)) AS occurrences,
       uniqState(user_id) AS users, min(ts) AS first_seen, max(ts) AS last_seen
FROM error_events
GROUP BY day, project_id, group_id, source;

-- Hourly totals by source and severity, without groups: the stats series and breakdowns.
CREATE TABLE IF NOT EXISTS error_totals_hourly (
    hour DateTime('UTC'),
    project_id UInt32,
    source LowCardinality(String),
    severity LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    occurrences SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, source, severity, project_id)
TTL hour + INTERVAL {event_ttl_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS error_totals_hourly_mv TO error_totals_hourly AS
SELECT toStartOfHour(ts) AS hour, project_id, source, severity,
       toUInt64(count()) AS events, toUInt64(sum(occurrences)) AS occurrences
FROM error_events
GROUP BY hour, project_id, source, severity;

-- The same per user, ordered by user first: a plain user's own view is a narrow range scan.
CREATE TABLE IF NOT EXISTS error_user_group_hourly (
    user_id UInt64,
    hour DateTime('UTC'),
    group_id String,
    source LowCardinality(String),
    severity LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    occurrences SimpleAggregateFunction(sum, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (user_id, hour, group_id, source, severity)
TTL hour + INTERVAL {event_ttl_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS error_user_group_hourly_mv TO error_user_group_hourly AS
SELECT user_id, toStartOfHour(ts) AS hour, group_id, source, severity,
       toUInt64(count()) AS events, toUInt64(sum(occurrences)) AS occurrences,
       min(ts) AS first_seen, max(ts) AS last_seen
FROM error_events
WHERE user_id != 0
GROUP BY user_id, hour, group_id, source, severity;

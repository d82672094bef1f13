using System.Collections.Generic;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>The SQLite schema, one migration per version (append new versions; never edit a shipped one).</summary>
internal static class SqliteSchema
{
    public const string VersionTable = "tm_schema_version";

    /// <summary>The partial index of long sessions (version 8), named by the queries' <c>INDEXED BY</c> (<see cref="SqliteStoreDialect"/>).</summary>
    public const string SessionLongIndex = "ix_tm_usage_session_long";

    /// <summary>The rollup's session rows by key (version 8), named by the queries' <c>INDEXED BY</c>.</summary>
    public const string RollupSessionIndex = "ix_tm_usage_rollup_session";

    /// <summary>The rollup's day rows by key (version 8), named by the queries' <c>INDEXED BY</c>.</summary>
    public const string RollupDayKeysIndex = "ix_tm_usage_rollup_day_keys";

    public static IReadOnlyList<StoreMigration> Migrations { get; } =
    [
        new(1, "usage records, tags, indexes",
        [
            """
            CREATE TABLE tm_usage (
                seq INTEGER PRIMARY KEY,
                id BLOB NOT NULL,
                ts INTEGER NOT NULL,
                ts_offset_min INTEGER NOT NULL,
                provider TEXT,
                operation TEXT,
                request_model TEXT,
                routed_model TEXT,
                response_model TEXT,
                model TEXT,
                response_id TEXT,
                is_streaming INTEGER NOT NULL,
                status TEXT NOT NULL,
                error_type TEXT,
                http_status INTEGER,
                duration_ticks INTEGER NOT NULL,
                first_chunk_ticks INTEGER,
                endpoint TEXT,
                server_address TEXT,
                server_port INTEGER,
                input_tokens INTEGER,
                output_tokens INTEGER,
                total_tokens INTEGER,
                cached_tokens INTEGER,
                cache_write_tokens INTEGER,
                reasoning_tokens INTEGER,
                input_details TEXT,
                output_details TEXT,
                source TEXT NOT NULL,
                estimation_method TEXT,
                user_id TEXT,
                consumer TEXT,
                session_id TEXT,
                tags TEXT,
                client_name TEXT,
                layer TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX ux_tm_usage_id ON tm_usage (id)",
            "CREATE INDEX ix_tm_usage_ts ON tm_usage (ts)",
            "CREATE INDEX ix_tm_usage_model_ts ON tm_usage (model, ts)",
            "CREATE INDEX ix_tm_usage_request_model ON tm_usage (request_model) WHERE request_model IS NOT NULL",
            "CREATE INDEX ix_tm_usage_routed_model ON tm_usage (routed_model) WHERE routed_model IS NOT NULL",
            "CREATE INDEX ix_tm_usage_provider_ts ON tm_usage (provider, ts)",
            "CREATE INDEX ix_tm_usage_user_ts ON tm_usage (user_id, ts) WHERE user_id IS NOT NULL",
            "CREATE INDEX ix_tm_usage_consumer_ts ON tm_usage (consumer, ts) WHERE consumer IS NOT NULL",
            "CREATE INDEX ix_tm_usage_session_ts ON tm_usage (session_id, ts) WHERE session_id IS NOT NULL",
            "CREATE TABLE tm_usage_tag (usage_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (usage_seq, key)) WITHOUT ROWID",
            "CREATE INDEX ix_tm_usage_tag_key_value ON tm_usage_tag (key, value, usage_seq)",

            // Totals per UTC day and effective model, kept by triggers in the writing transaction, so the FinOps breakdown
            // (by model and day, whole days) reads about days x models rows instead of every record. mkey is the model, or
            // the BLOB x'00' for "no model" (a BLOB never equals a TEXT, so it cannot collide with a real model name).
            """
            CREATE TABLE tm_usage_daily (
                day INTEGER NOT NULL,
                mkey NOT NULL,
                model TEXT,
                calls INTEGER NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                total_tokens INTEGER NOT NULL,
                cached_tokens INTEGER NOT NULL,
                cache_write_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                estimated_calls INTEGER NOT NULL,
                missing_calls INTEGER NOT NULL,
                failed_calls INTEGER NOT NULL,
                duration_ticks INTEGER NOT NULL,
                PRIMARY KEY (day, mkey))
            """,
            """
            CREATE TRIGGER tm_usage_daily_insert AFTER INSERT ON tm_usage BEGIN
                INSERT INTO tm_usage_daily VALUES (
                    NEW.ts - NEW.ts % 864000000000, COALESCE(NEW.model, x'00'), NEW.model, 1,
                    COALESCE(NEW.input_tokens, 0), COALESCE(NEW.output_tokens, 0),
                    COALESCE(NEW.total_tokens, COALESCE(NEW.input_tokens, 0) + COALESCE(NEW.output_tokens, 0)),
                    COALESCE(NEW.cached_tokens, 0), COALESCE(NEW.cache_write_tokens, 0), COALESCE(NEW.reasoning_tokens, 0),
                    NEW.source = 'estimated', NEW.source = 'missing', NEW.status <> 'ok', NEW.duration_ticks)
                ON CONFLICT (day, mkey) DO UPDATE SET
                    calls = calls + 1,
                    input_tokens = input_tokens + excluded.input_tokens,
                    output_tokens = output_tokens + excluded.output_tokens,
                    total_tokens = total_tokens + excluded.total_tokens,
                    cached_tokens = cached_tokens + excluded.cached_tokens,
                    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
                    reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
                    estimated_calls = estimated_calls + excluded.estimated_calls,
                    missing_calls = missing_calls + excluded.missing_calls,
                    failed_calls = failed_calls + excluded.failed_calls,
                    duration_ticks = duration_ticks + excluded.duration_ticks;
            END
            """,
            """
            CREATE TRIGGER tm_usage_daily_delete AFTER DELETE ON tm_usage BEGIN
                UPDATE tm_usage_daily SET
                    calls = calls - 1,
                    input_tokens = input_tokens - COALESCE(OLD.input_tokens, 0),
                    output_tokens = output_tokens - COALESCE(OLD.output_tokens, 0),
                    total_tokens = total_tokens - COALESCE(OLD.total_tokens, COALESCE(OLD.input_tokens, 0) + COALESCE(OLD.output_tokens, 0)),
                    cached_tokens = cached_tokens - COALESCE(OLD.cached_tokens, 0),
                    cache_write_tokens = cache_write_tokens - COALESCE(OLD.cache_write_tokens, 0),
                    reasoning_tokens = reasoning_tokens - COALESCE(OLD.reasoning_tokens, 0),
                    estimated_calls = estimated_calls - (OLD.source = 'estimated'),
                    missing_calls = missing_calls - (OLD.source = 'missing'),
                    failed_calls = failed_calls - (OLD.status <> 'ok'),
                    duration_ticks = duration_ticks - OLD.duration_ticks
                WHERE day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00');
                DELETE FROM tm_usage_daily WHERE day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00') AND calls = 0;
            END
            """,
        ]),
        new(2, "tool-loop rounds: operation id and round index",
        [
            "ALTER TABLE tm_usage ADD COLUMN operation_id TEXT",
            "ALTER TABLE tm_usage ADD COLUMN round_index INTEGER",
            "CREATE INDEX ix_tm_usage_operation ON tm_usage (operation_id) WHERE operation_id IS NOT NULL",
        ]),

        // Cost is an INTEGER of 10^-12 currency units (exact; see SqliteStoreDialect). Records from before version 3 have no
        // cost, so they count as unpriced in the rollup too (backfilled: every call with usage).
        new(3, "cost, currency, priced model, feature, captured content; cost and unpriced calls in the daily rollup",
        [
            "ALTER TABLE tm_usage ADD COLUMN cost INTEGER",
            "ALTER TABLE tm_usage ADD COLUMN currency TEXT",
            "ALTER TABLE tm_usage ADD COLUMN priced_model TEXT",
            "ALTER TABLE tm_usage ADD COLUMN feature TEXT",
            "ALTER TABLE tm_usage ADD COLUMN content TEXT",
            "CREATE INDEX ix_tm_usage_feature_ts ON tm_usage (feature, ts) WHERE feature IS NOT NULL",
            "ALTER TABLE tm_usage_daily ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0",
            "UPDATE tm_usage_daily SET unpriced_calls = calls - missing_calls",
            """
            CREATE TABLE tm_usage_daily_cost (
                day INTEGER NOT NULL,
                mkey NOT NULL,
                model TEXT,
                currency TEXT NOT NULL,
                calls INTEGER NOT NULL,
                cost_hi INTEGER NOT NULL,
                cost_lo INTEGER NOT NULL,
                PRIMARY KEY (day, mkey, currency))
            """,
            "DROP TRIGGER tm_usage_daily_insert",
            "DROP TRIGGER tm_usage_daily_delete",
            """
            CREATE TRIGGER tm_usage_daily_insert AFTER INSERT ON tm_usage BEGIN
                INSERT INTO tm_usage_daily VALUES (
                    NEW.ts - NEW.ts % 864000000000, COALESCE(NEW.model, x'00'), NEW.model, 1,
                    COALESCE(NEW.input_tokens, 0), COALESCE(NEW.output_tokens, 0),
                    COALESCE(NEW.total_tokens, COALESCE(NEW.input_tokens, 0) + COALESCE(NEW.output_tokens, 0)),
                    COALESCE(NEW.cached_tokens, 0), COALESCE(NEW.cache_write_tokens, 0), COALESCE(NEW.reasoning_tokens, 0),
                    NEW.source = 'estimated', NEW.source = 'missing', NEW.status <> 'ok', NEW.duration_ticks,
                    NEW.cost IS NULL AND NEW.source <> 'missing')
                ON CONFLICT (day, mkey) DO UPDATE SET
                    calls = calls + 1,
                    input_tokens = input_tokens + excluded.input_tokens,
                    output_tokens = output_tokens + excluded.output_tokens,
                    total_tokens = total_tokens + excluded.total_tokens,
                    cached_tokens = cached_tokens + excluded.cached_tokens,
                    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
                    reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
                    estimated_calls = estimated_calls + excluded.estimated_calls,
                    missing_calls = missing_calls + excluded.missing_calls,
                    failed_calls = failed_calls + excluded.failed_calls,
                    duration_ticks = duration_ticks + excluded.duration_ticks,
                    unpriced_calls = unpriced_calls + excluded.unpriced_calls;
                INSERT INTO tm_usage_daily_cost
                    SELECT NEW.ts - NEW.ts % 864000000000, COALESCE(NEW.model, x'00'), NEW.model, COALESCE(NEW.currency, ''), 1,
                        NEW.cost / 1000000, NEW.cost % 1000000
                    WHERE NEW.cost IS NOT NULL
                ON CONFLICT (day, mkey, currency) DO UPDATE SET
                    calls = calls + 1,
                    cost_hi = cost_hi + excluded.cost_hi,
                    cost_lo = cost_lo + excluded.cost_lo;
            END
            """,
            """
            CREATE TRIGGER tm_usage_daily_delete AFTER DELETE ON tm_usage BEGIN
                UPDATE tm_usage_daily SET
                    calls = calls - 1,
                    input_tokens = input_tokens - COALESCE(OLD.input_tokens, 0),
                    output_tokens = output_tokens - COALESCE(OLD.output_tokens, 0),
                    total_tokens = total_tokens - COALESCE(OLD.total_tokens, COALESCE(OLD.input_tokens, 0) + COALESCE(OLD.output_tokens, 0)),
                    cached_tokens = cached_tokens - COALESCE(OLD.cached_tokens, 0),
                    cache_write_tokens = cache_write_tokens - COALESCE(OLD.cache_write_tokens, 0),
                    reasoning_tokens = reasoning_tokens - COALESCE(OLD.reasoning_tokens, 0),
                    estimated_calls = estimated_calls - (OLD.source = 'estimated'),
                    missing_calls = missing_calls - (OLD.source = 'missing'),
                    failed_calls = failed_calls - (OLD.status <> 'ok'),
                    duration_ticks = duration_ticks - OLD.duration_ticks,
                    unpriced_calls = unpriced_calls - (OLD.cost IS NULL AND OLD.source <> 'missing')
                WHERE day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00');
                DELETE FROM tm_usage_daily WHERE day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00') AND calls = 0;
                UPDATE tm_usage_daily_cost SET
                    calls = calls - 1,
                    cost_hi = cost_hi - OLD.cost / 1000000,
                    cost_lo = cost_lo - OLD.cost % 1000000
                WHERE OLD.cost IS NOT NULL AND day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00') AND currency = COALESCE(OLD.currency, '');
                DELETE FROM tm_usage_daily_cost WHERE day = OLD.ts - OLD.ts % 864000000000 AND mkey = COALESCE(OLD.model, x'00') AND currency = COALESCE(OLD.currency, '') AND calls = 0;
            END
            """,
        ]),

        // The dashboard's rollup (StoreRollup): totals per UTC hour and day, per single dimension, kept by the store's write
        // transaction (one set-based upsert per batch) instead of the per-row triggers of the daily rollup it replaces.
        new(4, "multi-grain rollup (hour and day x total, provider, model, user, consumer, session, status, feature) replacing the daily rollup; backfilled",
        [
            "DROP TRIGGER tm_usage_daily_insert",
            "DROP TRIGGER tm_usage_daily_delete",
            "DROP TABLE tm_usage_daily",
            "DROP TABLE tm_usage_daily_cost",
            """
            CREATE TABLE tm_usage_rollup (
                dim INTEGER NOT NULL,
                grain INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                dnull INTEGER NOT NULL,
                dkey TEXT NOT NULL,
                priced INTEGER NOT NULL,
                ccy TEXT NOT NULL,
                calls INTEGER NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                total_tokens INTEGER NOT NULL,
                cached_tokens INTEGER NOT NULL,
                cache_write_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                estimated_calls INTEGER NOT NULL,
                estimated_tokens INTEGER NOT NULL,
                missing_calls INTEGER NOT NULL,
                failed_calls INTEGER NOT NULL,
                duration_ticks INTEGER NOT NULL,
                unpriced_calls INTEGER NOT NULL,
                last_ts INTEGER NOT NULL,
                cost_hi INTEGER NOT NULL,
                cost_lo INTEGER NOT NULL,
                PRIMARY KEY (dim, grain, bucket, dnull, dkey, priced, ccy)) WITHOUT ROWID
            """,
            "WITH " + StoreRollup.Ctes + " " + StoreRollup.Upsert(SqliteStoreDialect.Instance, "tm_usage", "1 = 1", 1),
        ]),

        // Write throughput (issue 15): every index costs each inserted row a b-tree insert. The rollup now answers the dashboard's
        // groupings by provider, model, user, consumer and feature, so their record indexes go; what stays is what the remaining
        // record queries need: the id (uniqueness, idempotent writes), ts (ranges, newest-first pages, retention), session id
        // (a session's detail and rounds) and the tag index. Filters the rollup cannot answer now read the ts range instead.
        // The operation index served no query at all.
        new(5, "drop the record indexes the rollup made redundant (provider, model, request/routed model, user, consumer, feature, operation)",
        [
            "DROP INDEX IF EXISTS ix_tm_usage_model_ts",
            "DROP INDEX IF EXISTS ix_tm_usage_request_model",
            "DROP INDEX IF EXISTS ix_tm_usage_routed_model",
            "DROP INDEX IF EXISTS ix_tm_usage_provider_ts",
            "DROP INDEX IF EXISTS ix_tm_usage_user_ts",
            "DROP INDEX IF EXISTS ix_tm_usage_consumer_ts",
            "DROP INDEX IF EXISTS ix_tm_usage_feature_ts",
            "DROP INDEX IF EXISTS ix_tm_usage_operation",
        ]),

        // Write throughput (issue 16): the rollup leaves the write transaction. Records are folded into it later, in large groups,
        // by the sequence (rowid): folded_seq is the last record folded; queries add the records past it (StoreRollup.AppendSource),
        // so they stay exact. Everything stored so far is already in the rollup.
        new(6, "rollup watermark: records are folded into the rollup after their write, queries add the unfolded remainder",
        [
            "CREATE TABLE tm_rollup_state (id INTEGER PRIMARY KEY CHECK (id = 1), folded_seq INTEGER NOT NULL)",
            "INSERT INTO tm_rollup_state (id, folded_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM tm_usage",
        ]),

        // Write throughput (issue 16): the tag rows cost each record two rows and four b-tree writes (the table and its (key, value)
        // index, which no query used: tag filters probed the primary key per record). The same probe reads the record's own JSON
        // column as fast (json_extract on a small object), so the tags live only there.
        new(7, "tags read from the record's JSON column; the tag table goes",
        [
            "DROP TABLE IF EXISTS tm_usage_tag",
        ]),

        // Rollup queries (issue 16): ranking 100,000 sessions over 30 days grouped every session-hour rollup row in the range (about
        // 125,000: 0.1 s). The summary has one row per session, kept by the fold, with an index in each page order (cost, tokens,
        // last record; ties by id, as the page breaks them), so a page reads about its length of rows; sessions straddling the
        // range's edges (found by first_ts, or among the few sessions longer than a day) are summed from their session-hour rows,
        // read by key through the partial rollup index.
        new(8, "per-session summary for the sessions ranking, indexed in each page order (backfilled from the folded records); day rows indexed by key",
        [
            "CREATE TABLE tm_usage_session (skey TEXT NOT NULL PRIMARY KEY, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, calls INTEGER NOT NULL, "
                + "total_tokens INTEGER NOT NULL, cost_hi INTEGER NOT NULL, cost_lo INTEGER NOT NULL) WITHOUT ROWID",
            StoreSessionSummary.Backfill(SqliteStoreDialect.Instance, "u.seq <= (SELECT folded_seq FROM tm_rollup_state)"),
            "CREATE INDEX ix_tm_usage_session_last ON tm_usage_session (last_ts DESC, skey)",
            "CREATE INDEX ix_tm_usage_session_cost ON tm_usage_session (" + SqliteStoreDialect.Instance.SessionCostKey + " DESC, last_ts DESC, skey)",
            "CREATE INDEX ix_tm_usage_session_tokens ON tm_usage_session (total_tokens DESC, last_ts DESC, skey)",

            // The first_ts index carries last_ts so an edge's candidates are found without reading the table (a page over 24 hours
            // checks about a day of sessions); the long sessions' partial index does not, so a fold that moves a long session's
            // last_ts leaves it alone (a session updated at every fold is usually a long one).
            "CREATE INDEX ix_tm_usage_session_first ON tm_usage_session (first_ts, last_ts)",
            "CREATE INDEX " + SessionLongIndex + " ON tm_usage_session (first_ts) WHERE " + StoreSessionSummary.LongSession,
            "CREATE INDEX " + RollupSessionIndex + " ON tm_usage_rollup (dkey, bucket) WHERE dim = " + ((int)TokenUsageDimensions.Session).ToString(System.Globalization.CultureInfo.InvariantCulture),

            // A top N of one dimension's keys over whole days (StoreRollup.AppendKeyTotals) reads the day rows in key order, with
            // the sums it ranks on, from this index alone: no sort of every row (a 30-day ranking of 500 users: 18,000 rows).
            "CREATE INDEX " + RollupDayKeysIndex + " ON tm_usage_rollup (dim, dnull, dkey, bucket, calls, total_tokens, cost_hi, cost_lo) WHERE grain = "
                + StoreValues.DayTicks.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]),
    ];
}

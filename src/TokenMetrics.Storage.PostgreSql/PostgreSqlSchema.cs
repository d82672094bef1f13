using System.Collections.Generic;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>The PostgreSQL schema, one migration per version (append new versions; never edit a shipped one).</summary>
internal static class PostgreSqlSchema
{
    private static readonly string Day = StoreValues.DayTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Returns the migrations for a schema.</summary>
    /// <param name="s">The validated, quoted schema name.</param>
    /// <param name="dialect">The store's dialect (its key hash function), or null for the default.</param>
    /// <returns>The migrations.</returns>
    public static IReadOnlyList<StoreMigration> Migrations(string s, PostgreSqlStoreDialect? dialect = null) =>
    [
        new(1, "usage records, indexes",
        [
            $"""
            CREATE TABLE {s}.tm_usage (
                id uuid NOT NULL PRIMARY KEY,
                ts bigint NOT NULL,
                ts_offset_min integer NOT NULL,
                provider text,
                operation text,
                request_model text,
                routed_model text,
                response_model text,
                model text,
                response_id text,
                is_streaming boolean NOT NULL,
                status text NOT NULL,
                error_type text,
                http_status integer,
                duration_ticks bigint NOT NULL,
                first_chunk_ticks bigint,
                endpoint text,
                server_address text,
                server_port integer,
                input_tokens bigint,
                output_tokens bigint,
                total_tokens bigint,
                cached_tokens bigint,
                cache_write_tokens bigint,
                reasoning_tokens bigint,
                input_details jsonb,
                output_details jsonb,
                source text NOT NULL,
                estimation_method text,
                user_id text,
                consumer text,
                session_id text,
                tags jsonb,
                client_name text,
                layer text NOT NULL)
            """,
            $"CREATE INDEX ix_tm_usage_ts ON {s}.tm_usage (ts)",

            // Hash indexes for equality filters: no btree row-size limit, so very long ids and models still insert.
            $"CREATE INDEX ix_tm_usage_model ON {s}.tm_usage USING hash (model)",
            $"CREATE INDEX ix_tm_usage_request_model ON {s}.tm_usage USING hash (request_model)",
            $"CREATE INDEX ix_tm_usage_routed_model ON {s}.tm_usage USING hash (routed_model)",
            $"CREATE INDEX ix_tm_usage_provider ON {s}.tm_usage USING hash (provider)",
            $"CREATE INDEX ix_tm_usage_user ON {s}.tm_usage USING hash (user_id)",
            $"CREATE INDEX ix_tm_usage_consumer ON {s}.tm_usage USING hash (consumer)",
            $"CREATE INDEX ix_tm_usage_session ON {s}.tm_usage USING hash (session_id)",
            $"CREATE INDEX ix_tm_usage_tags ON {s}.tm_usage USING gin (tags jsonb_path_ops)",
        ]),
        new(2, "tool-loop rounds: operation id and round index",
        [
            $"ALTER TABLE {s}.tm_usage ADD COLUMN operation_id text",
            $"ALTER TABLE {s}.tm_usage ADD COLUMN round_index integer",
            $"CREATE INDEX ix_tm_usage_operation ON {s}.tm_usage USING hash (operation_id)",
        ]),

        // Cost as numeric without a typmod: exact, keeps the record's digits, sums exactly.
        new(3, "cost, currency, priced model, feature, captured content",
        [
            $"ALTER TABLE {s}.tm_usage ADD COLUMN cost numeric, ADD COLUMN currency text, ADD COLUMN priced_model text, ADD COLUMN feature text, ADD COLUMN content jsonb",
            $"CREATE INDEX ix_tm_usage_feature ON {s}.tm_usage USING hash (feature)",
        ]),

        // The dashboard's rollup (StoreRollup), kept by the write transaction (one set-based upsert per batch). The unique key
        // hashes the texts: a btree entry cannot hold a very long session id or model, md5 of it can.
        new(4, "multi-grain rollup (hour and day x total, provider, model, user, consumer, session, status, feature); backfilled",
        [
            $"""
            CREATE TABLE {s}.tm_usage_rollup (
                dim integer NOT NULL,
                grain bigint NOT NULL,
                bucket bigint NOT NULL,
                dnull integer NOT NULL,
                dkey text NOT NULL,
                priced integer NOT NULL,
                ccy text NOT NULL,
                calls bigint NOT NULL,
                input_tokens bigint NOT NULL,
                output_tokens bigint NOT NULL,
                total_tokens bigint NOT NULL,
                cached_tokens bigint NOT NULL,
                cache_write_tokens bigint NOT NULL,
                reasoning_tokens bigint NOT NULL,
                estimated_calls bigint NOT NULL,
                estimated_tokens bigint NOT NULL,
                missing_calls bigint NOT NULL,
                failed_calls bigint NOT NULL,
                duration_ticks bigint NOT NULL,
                unpriced_calls bigint NOT NULL,
                last_ts bigint NOT NULL,
                cost numeric NOT NULL)
            """,
            $"CREATE UNIQUE INDEX ux_tm_usage_rollup ON {s}.tm_usage_rollup (dim, grain, bucket, dnull, md5(dkey), priced, md5(ccy))",
            "WITH " + StoreRollup.Ctes + " " + StoreRollup.Upsert(new PostgreSqlStoreDialect(s), s + ".tm_usage", "1 = 1", 1),
        ]),

        // Sessions ranked over a long range without grouping every session-hour row (StoreSessionSummary); backfilled. And write
        // throughput (issue 15): every index costs each inserted row an index insert. The rollup answers the dashboard's
        // groupings by provider, model, user, consumer and feature, so their record indexes go; what stays is what the
        // remaining record queries need: the id (idempotent writes), ts (ranges, newest-first pages, retention), session id (a
        // session's detail and rounds) and the tags' GIN index. The operation index served no query at all.
        new(5, "per-session summary for the sessions ranking (backfilled); drop the record indexes the rollup made redundant",
        [
            .. StoreSessionSummary.Create(new PostgreSqlStoreDialect(s)),
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_model",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_request_model",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_routed_model",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_provider",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_user",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_consumer",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_feature",
            $"DROP INDEX IF EXISTS {s}.ix_tm_usage_operation",
        ]),

        // Write throughput (issue 16): records are COPYed straight into tm_usage and folded into the rollup and the session
        // summary later, in large groups, by their sequence: folded_seq is the last record folded; queries add the records past
        // it, so they stay exact. Writers hold a shared advisory lock and the fold an exclusive one, so every sequence at or
        // below the watermark belongs to a committed, folded record. Everything stored so far is already folded.
        new(6, "record sequence and rollup watermark: records are folded into the rollup after their write",
        [
            $"ALTER TABLE {s}.tm_usage ADD COLUMN seq bigint GENERATED BY DEFAULT AS IDENTITY",
            $"CREATE INDEX ix_tm_usage_seq ON {s}.tm_usage (seq)",
            $"CREATE TABLE {s}.tm_rollup_state (id integer PRIMARY KEY CHECK (id = 1), folded_seq bigint NOT NULL)",
            $"INSERT INTO {s}.tm_rollup_state (id, folded_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM {s}.tm_usage",

            // Statistics for the new column: without them the planner takes "seq > watermark" for a third of the table and scans it.
            $"ANALYZE {s}.tm_usage",
        ]),

        // Write throughput (issue 16): a fold updates the rollup rows of the current hour and day again and again (every 10,000
        // records); with full pages each update is a new row version plus an entry in each index, and the unique index's chains
        // of dead versions grow until vacuum. Free space on each page lets PostgreSQL update in place (HOT: no index entries,
        // dead versions pruned with the page); none of the updated columns is indexed. Rows stored before keep their pages.
        new(7, "rollup pages keep 20% free for in-place (HOT) updates by the fold",
        [
            $"ALTER TABLE {s}.tm_usage_rollup SET (fillfactor = 80)",
        ]),

        // Rollup queries (issue 16): a sessions page ranked all the inside sessions' summary rows (about 100,000 over 30 days) to
        // keep 20. It now reads the first offset + limit of them in the page's order (StoreSessionSummary.AppendRanking) through
        // these indexes (ties on the id are sorted within equal keys); the last-record order already has ix_tm_usage_session_last.
        // Sessions straddling an edge are those started less than a day before it (ix_tm_usage_session_first) or the few longer ones.
        new(8, "sessions summary indexed in the cost and token page orders, and its long sessions",
        [
            $"CREATE INDEX ix_tm_usage_session_cost ON {s}.tm_usage_session (cost DESC, last_ts DESC)",
            $"CREATE INDEX ix_tm_usage_session_tokens ON {s}.tm_usage_session (total_tokens DESC, last_ts DESC)",
            $"CREATE INDEX ix_tm_usage_session_long ON {s}.tm_usage_session (last_ts) WHERE " + StoreSessionSummary.LongSession,
        ]),

        // Rollup queries (issue 16): a 30-day top 10 of 500 users summed 15 columns over 18,000 day rows (18 ms), and its costs per
        // currency scanned them again. The keys are now ranked on 3 sums, and the 10 keys' day rows (and their costs) read through
        // this index (StoreDialect.RollupDayKeyProbe). Day rows only: few, and their keys and buckets never change, so the fold's
        // updates stay HOT.
        new(9, "day rows of the rollup indexed by key, for a top N's second pass",
        [
            $"CREATE INDEX ix_tm_usage_rollup_day_key ON {s}.tm_usage_rollup (dim, md5(dkey), bucket) WHERE grain = " + StoreValues.DayTicks.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]),

        // Rollup queries (issue 16): the 30-day top 10 of 500 users still spent most of its ranking (about 8 of 13 ms) grouping
        // 18,000 day rows by their text key. Each row now carries its key's 64-bit hash (StoreDialect.KeyHash, computed by the
        // server: the fold, the SQL fold and this backfill agree), and the ranking groups the day rows by it, read from a covering
        // index alone (StoreRollup.AppendKeyHashRanking; 5-6 ms server-side where the text ranking took 8-13 on the same loaded
        // machine). The hash index finds a key's day rows (a candidate's keys, a top N's second pass) and replaces the md5 one. The
        // covering index holds sums the fold updates, so a day row's update is no longer HOT (hour rows, most of a fold's, stay HOT).
        new(10, "key hash on rollup rows; day rows indexed for ranking by hash and found by hash",
        [
            $"ALTER TABLE {s}.tm_usage_rollup ADD COLUMN khash bigint GENERATED ALWAYS AS (" + (dialect ?? new PostgreSqlStoreDialect(s)).KeyHash("dkey", "dnull") + ") STORED",
            $"CREATE INDEX ix_tm_usage_rollup_day_rank ON {s}.tm_usage_rollup (dim, bucket) INCLUDE (khash, calls, total_tokens, cost) WHERE grain = " + Day,
            $"CREATE INDEX ix_tm_usage_rollup_day_hash ON {s}.tm_usage_rollup (dim, khash, bucket) WHERE grain = " + Day,
            $"DROP INDEX {s}.ix_tm_usage_rollup_day_key",

            // The index-only scan needs the visibility map: the rewritten table has none until vacuumed (autovacuum does it later).
            $"ANALYZE {s}.tm_usage_rollup",
        ]),
    ];
}

using System.Collections.Generic;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>The SQLite schema, one migration per version (append new versions; never edit a shipped one).</summary>
internal static class SqliteSchema
{
    public const string VersionTable = "tm_schema_version";

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
        ]),
    ];
}

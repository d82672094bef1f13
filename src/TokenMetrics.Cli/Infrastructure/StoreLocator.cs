using System.IO;
using TokenMetrics.Storage.PostgreSql;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli;

/// <summary>Opens the store named on the command line: <c>--store sqlite:PATH</c>, <c>--store postgres:CONNECTION-STRING</c>, or
/// a bare path (SQLite); without <c>--store</c>, the <see cref="EnvironmentVariable"/>, else the default SQLite path.</summary>
internal static class StoreLocator
{
    /// <summary>The environment variable read when <c>--store</c> is not given.</summary>
    public const string EnvironmentVariable = "TOKENMETRICS_STORE";

    /// <summary>The page size of a SQLite database the tool creates: 32 KiB.</summary>
    public const int BulkPageSize = 32_768;

    /// <summary>What <c>--help</c> says about <c>--store</c>.</summary>
    public const string Help = "The store: sqlite:PATH, postgres:CONNECTION-STRING, or a path (SQLite). Default: $" + EnvironmentVariable + ", else " + SqliteTokenUsageStoreOptions.DefaultDatabasePath + ".";

    /// <summary>Opens the store.</summary>
    /// <param name="spec">The <c>--store</c> value, or <see langword="null"/>.</param>
    /// <param name="create">Create a missing SQLite database (ingest); otherwise a missing file is an input error (reports).</param>
    /// <param name="batchSize">Records per store transaction, when the caller writes in batches of its own (ingest): one transaction
    /// per write instead of the store's default split.</param>
    /// <returns>The store; dispose it when done.</returns>
    /// <exception cref="CliException">The value is malformed (usage) or the SQLite file does not exist (input error).</exception>
    public static ITokenUsageStore Open(string? spec, bool create, int? batchSize = null)
    {
        spec = string.IsNullOrWhiteSpace(spec) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : spec;
        spec = string.IsNullOrWhiteSpace(spec) ? "sqlite:" + SqliteTokenUsageStoreOptions.DefaultDatabasePath : spec.Trim();
        if (spec.StartsWith("postgres:", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("postgresql:", StringComparison.OrdinalIgnoreCase))
        {
            var connection = spec[(spec.IndexOf(':', StringComparison.Ordinal) + 1)..];
            if (connection.Length == 0)
            {
                throw new CliException(ExitCodes.Usage, "--store postgres: needs a connection string, e.g. postgres:\"Host=127.0.0.1;Username=tm;Password=...;Database=tm\".");
            }

            var postgres = new PostgreSqlTokenUsageStoreOptions { ConnectionString = connection };
            postgres.BatchSize = batchSize ?? postgres.BatchSize;
            return new PostgreSqlTokenUsageStore(postgres);
        }

        var path = spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase) ? spec["sqlite:".Length..] : spec;
        if (path.Length == 0)
        {
            throw new CliException(ExitCodes.Usage, "--store sqlite: needs a file path, e.g. sqlite:./.tokenmetrics/usage.db.");
        }

        if (!create && !File.Exists(path))
        {
            throw new CliException(ExitCodes.InputError, $"No SQLite store at '{path}': pass --store sqlite:PATH (the file your app's AddSqliteStore() writes) or set ${EnvironmentVariable}.");
        }

        // A database the tool creates is for bulk loads (ingest): larger pages, fewer page writes and WAL frames per batch.
        var sqlite = new SqliteTokenUsageStoreOptions { DatabasePath = path, PageSize = create ? BulkPageSize : SqliteTokenUsageStoreOptions.DefaultPageSize };
        sqlite.BatchSize = batchSize ?? sqlite.BatchSize;
        return new SqliteTokenUsageStore(sqlite);
    }
}

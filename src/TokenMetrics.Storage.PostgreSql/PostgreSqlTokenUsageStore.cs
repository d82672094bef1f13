using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>An <see cref="ITokenUsageStore"/> in PostgreSQL, shared by several app instances: binary COPY into a staging
/// table then <c>INSERT ... ON CONFLICT (id) DO NOTHING</c>, migrations serialised by an advisory lock, optional retention.</summary>
/// <remarks>The schema is created or migrated on first use. U+0000, which PostgreSQL text cannot hold, is stored escaped
/// and returned intact.</remarks>
public sealed class PostgreSqlTokenUsageStore : ITokenUsageStore, IAsyncDisposable
{
    private const string StoreName = "PostgreSQL";

    private static readonly SearchValues<char> IdentifierChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    private readonly PostgreSqlTokenUsageStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly RetentionSchedule _retention;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schema;
    private readonly PostgreSqlStoreDialect _dialect;
    private readonly string _copyCommand;
    private readonly string _stageCommand;
    private readonly string _insertCommand;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlTokenUsageStore"/> class.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="logger">The logger, if any.</param>
    /// <param name="timeProvider">The clock for retention; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Neither a data source nor a connection string is set, or the schema name is invalid.</exception>
    public PostgreSqlTokenUsageStore(PostgreSqlTokenUsageStoreOptions options, ILogger<PostgreSqlTokenUsageStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, 100_000, nameof(options));
        if (!IsValidIdentifier(options.Schema))
        {
            throw new ArgumentException("The schema name must be 1 to 63 letters, digits or underscores, not starting with a digit.", nameof(options));
        }

        if (options.DataSource is null && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("Set a ConnectionString or a DataSource.", nameof(options));
        }

        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _retention = new RetentionSchedule(options.Retention, options.RetentionSweepInterval, _timeProvider);
        _ownsDataSource = options.DataSource is null;
        _dataSource = options.DataSource ?? NpgsqlDataSource.Create(options.ConnectionString!);
        _schema = "\"" + options.Schema + "\"";
        _dialect = new PostgreSqlStoreDialect(_schema);
        // Created once per session, emptied at each commit: no catalog rows written and dropped for every batch. (A pooled
        // connection's reset drops it; it is then created again by the next batch.)
        _stageCommand = "CREATE TEMP TABLE IF NOT EXISTS tm_stage (LIKE " + _dialect.UsageTable + ") ON COMMIT DELETE ROWS";
        _copyCommand = "COPY tm_stage (" + UsageColumns.NameList + ") FROM STDIN (FORMAT BINARY)";

        // One statement: the new records (ON CONFLICT skips ids already stored) and, from exactly those, the rollup's deltas.
        _insertCommand = "WITH tm_new AS (INSERT INTO " + _dialect.UsageTable + " (" + UsageColumns.NameList + ") SELECT " + UsageColumns.NameList
            + " FROM tm_stage ON CONFLICT (id) DO NOTHING RETURNING " + StoreRollup.SourceColumns + "), " + StoreRollup.Ctes
            + ", tm_roll AS (" + StoreRollup.Upsert(_dialect, "tm_new", "1 = 1", 1) + "), tm_sess AS (" + StoreSessionSummary.Upsert(_dialect, "tm_new")
            + ") SELECT COUNT(*) FROM tm_new";
    }

    /// <summary>Gets the schema the tables are in.</summary>
    public string Schema => _options.Schema;

    /// <summary>Gets or sets a value indicating whether queries may read the rollup (false: always scan the records; the
    /// rollup is still kept). For tests and benchmarks that compare the two paths.</summary>
    internal bool UseRollup { get; set; } = true;

    /// <summary>Creates or migrates the schema now rather than on first use; safe when several instances start at once.</summary>
    /// <param name="cancellationToken">Cancels the initialization.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_initialized)
        {
            return;
        }

        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }

            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // Instances starting together queue here; each then sees the version the previous one committed.
                    var sql = new SqlText();
                    sql.Append("SELECT pg_advisory_xact_lock(" + sql.Add(LockKey(_options.Schema)) + "); CREATE SCHEMA IF NOT EXISTS " + _schema);
                    await ExecuteAsync(sql, connection, transaction, cancellationToken).ConfigureAwait(false);
                    var (from, to) = await SchemaMigrator.MigrateAsync(
                        connection, transaction, _schema + ".tm_schema_version", PostgreSqlSchema.Migrations(_schema), _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    if (from != to)
                    {
                        StoreLog.Migrated(_logger, StoreName, from, to);
                    }
                }
            }

            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<int> WriteAsync(IReadOnlyList<TokenUsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (records.Count == 0)
        {
            return 0;
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var inserted = await RetentionSchedule.WriteBatchesAsync(records, _options.BatchSize, (start, count) => WriteBatchAsync(connection, records, start, count, cancellationToken)).ConfigureAwait(false);
            if (_retention.TryClaim(out var cutoff))
            {
                await _retention.SweepAsync(() => DeleteChunkAsync(connection, cutoff, cancellationToken), cutoff, _logger, StoreName).ConfigureAwait(false);
            }

            return inserted;
        }
    }

    /// <inheritdoc/>
    public async ValueTask<TokenUsagePage> QueryAsync(TokenUsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.QueryAsync(connection, _dialect, query, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(TokenUsageAggregateQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.AggregateAsync(connection, _dialect, query, UseRollup, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(TokenUsageSessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.GetSessionsAsync(connection, _dialect, query, UseRollup, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await RetentionSchedule.DeleteAllAsync(() => DeleteChunkAsync(connection, cutoff, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _initLock.Dispose();
    }

    private static bool IsValidIdentifier(string? name) =>
        name is { Length: > 0 and <= 63 } && !char.IsAsciiDigit(name[0]) && name.AsSpan().IndexOfAnyExcept(IdentifierChars) < 0;

    private static long LockKey(string schema)
    {
        // FNV-1a over a fixed prefix and the schema: stable across processes and versions, unlike string.GetHashCode.
        var hash = 14695981039346656037UL;
        foreach (var c in "TokenMetrics.Storage.PostgreSql:" + schema)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private static async ValueTask<int> ExecuteAsync(SqlText sql, NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var command = sql.CreateCommand(connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static NpgsqlDbType DbType(ColumnKind kind) => kind switch
    {
        ColumnKind.Id => NpgsqlDbType.Uuid,
        ColumnKind.Int64 => NpgsqlDbType.Bigint,
        ColumnKind.Int32 => NpgsqlDbType.Integer,
        ColumnKind.Bool => NpgsqlDbType.Boolean,
        ColumnKind.Json => NpgsqlDbType.Jsonb,
        ColumnKind.Cost => NpgsqlDbType.Numeric,
        _ => NpgsqlDbType.Text,
    };

    private async ValueTask<NpgsqlConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<int> WriteBatchAsync(NpgsqlConnection connection, IReadOnlyList<TokenUsageRecord> records, int start, int count, CancellationToken cancellationToken)
    {
        var columns = UsageColumns.All;
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            _ = await ExecuteAsync(new SqlText().Append(_stageCommand), connection, transaction, cancellationToken).ConfigureAwait(false);
            var importer = await connection.BeginBinaryImportAsync(_copyCommand, cancellationToken).ConfigureAwait(false);
            await using (importer.ConfigureAwait(false))
            {
                for (var r = start; r < start + count; r++)
                {
                    var record = records[r] ?? throw new ArgumentException("The records contain null.", nameof(records));
                    await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    for (var c = 0; c < columns.Count; c++)
                    {
                        var value = columns[c].Get(record, true);
                        if (value is null)
                        {
                            await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            await importer.WriteAsync(value, DbType(columns[c].Kind), cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                _ = await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            int inserted;
            var insert = new SqlText().Append(_insertCommand).CreateCommand(connection, transaction);
            await using (insert.ConfigureAwait(false))
            {
                inserted = Convert.ToInt32(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return inserted;
        }
    }

    private async ValueTask<int> DeleteChunkAsync(NpgsqlConnection connection, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // The chunk's records leave the rollup in the same statement (a data-modifying CTE subtracts exactly the rows deleted);
        // rows left with no calls are dropped after it, in the same transaction.
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var sql = new SqlText();
            var cutoffParameter = sql.Add(cutoff.UtcTicks);
            sql.Append("WITH tm_gone AS (DELETE FROM " + _dialect.UsageTable + " WHERE id IN (SELECT id FROM " + _dialect.UsageTable + " WHERE ts < " + cutoffParameter
                + " ORDER BY ts LIMIT " + sql.Add(RetentionSchedule.ChunkSize) + ") RETURNING " + StoreRollup.SourceColumns + "), " + StoreRollup.Ctes
                + ", tm_roll AS (" + StoreRollup.Upsert(_dialect, "tm_gone", "1 = 1", -1) + "), tm_sess AS (" + StoreSessionSummary.Subtract(_dialect, "tm_gone")
                + ") SELECT COUNT(*) FROM tm_gone");
            int deleted;
            var command = sql.CreateCommand(connection, transaction);
            await using (command.ConfigureAwait(false))
            {
                deleted = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }

            var empty = new SqlText();
            var emptyCutoff = empty.Add(cutoff.UtcTicks);
            empty.Append(StoreRollup.DeleteEmpty(_dialect, emptyCutoff) + "; " + StoreSessionSummary.DeleteEmpty(_dialect, emptyCutoff));
            _ = await ExecuteAsync(empty, connection, transaction, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return deleted;
        }
    }
}

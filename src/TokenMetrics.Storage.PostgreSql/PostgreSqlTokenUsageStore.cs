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
    private readonly string _directCopyCommand;
    private readonly string _stageCommand;
    private readonly string _insertCommand;
    private readonly string _foldCommand;
    private readonly PostgreSqlRollupFold _rollupFold;
    private readonly long _foldLockKey;
    private long _unfolded;
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
        _stageCommand = "CREATE TEMP TABLE IF NOT EXISTS tm_stage ON COMMIT DELETE ROWS AS SELECT " + UsageColumns.NameList + " FROM " + _dialect.UsageTable + " WITH NO DATA";
        _copyCommand = "COPY tm_stage (" + UsageColumns.NameList + ") FROM STDIN (FORMAT BINARY)";
        _directCopyCommand = "COPY " + _dialect.UsageTable + " (" + UsageColumns.NameList + ") FROM STDIN (FORMAT BINARY)";

        // The replay path (a batch holding an id already stored): ON CONFLICT skips those ids.
        _insertCommand = "INSERT INTO " + _dialect.UsageTable + " (" + UsageColumns.NameList + ") SELECT " + UsageColumns.NameList
            + " FROM tm_stage ON CONFLICT (id) DO NOTHING";

        // The fold: the records past the watermark (up to @to) into the rollup and the session summary, and the watermark moved, in
        // one statement.
        _foldCommand = "WITH tm_new AS (SELECT " + StoreRollup.SourceColumns + " FROM " + _dialect.UsageTable + " WHERE seq > @from AND seq <= @to), " + StoreRollup.Ctes
            + ", tm_roll AS (" + StoreRollup.Upsert(_dialect, "tm_new", "1 = 1", 1) + "), tm_sess AS (" + StoreSessionSummary.Upsert(_dialect, "tm_new")
            + ") UPDATE " + _dialect.RollupStateTable + " SET folded_seq = @to";
        _foldLockKey = LockKey("fold:" + options.Schema);
        _rollupFold = new PostgreSqlRollupFold(_dialect);
    }

    /// <summary>Gets the schema the tables are in.</summary>
    public string Schema => _options.Schema;

    /// <summary>Gets or sets a value indicating whether queries may read the rollup (false: always scan the records; the
    /// rollup is still kept). For tests and benchmarks that compare the two paths.</summary>
    internal bool UseRollup { get; set; } = true;

    /// <summary>Gets or sets the SQL function hashing rollup keys (see <see cref="PostgreSqlStoreDialect.KeyHashFunction"/>): tests
    /// set one with a collision before the schema is created.</summary>
    internal string KeyHashFunction
    {
        get => _dialect.KeyHashFunction;
        set => _dialect.KeyHashFunction = value;
    }

    /// <summary>Gets or sets how many records written by this instance wait before they are folded into the rollup (see
    /// <see cref="FoldAsync"/>); they are also folded before retention and on dispose. Queries are exact either way.</summary>
    internal long FoldThreshold { get; set; } = StoreRollup.FoldThreshold;

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
                        connection, transaction, _schema + ".tm_schema_version", PostgreSqlSchema.Migrations(_schema, _dialect), _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    if (from != to)
                    {
                        StoreLog.Migrated(_logger, StoreName, from, to);
                    }
                }

                // Records left unfolded by a crash (or by another instance) are folded by this instance's next fold.
                var unfolded = new SqlText().Append("SELECT COUNT(*) FROM " + _dialect.UsageTable + " u WHERE " + StoreRollup.Unfolded(_dialect)).CreateCommand(connection);
                await using (unfolded.ConfigureAwait(false))
                {
                    _unfolded = Convert.ToInt64(await unfolded.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
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
            if (Interlocked.Add(ref _unfolded, inserted) >= FoldThreshold)
            {
                await FoldOnAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            if (_retention.TryClaim(out var cutoff))
            {
                // Retention subtracts folded records only: fold first.
                await FoldOnAsync(connection, cancellationToken).ConfigureAwait(false);
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
            await FoldOnAsync(connection, cancellationToken).ConfigureAwait(false);
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
        if (_initialized && Interlocked.Read(ref _unfolded) > 0)
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    await FoldOnAsync(connection, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (System.Data.Common.DbException ex)
            {
                // Not lost: the records are stored, and the next fold (this or another instance) takes them.
                StoreLog.FoldFailed(_logger, StoreName, ex);
            }
        }

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

    private async ValueTask<NpgsqlConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Folds every record written so far (by any instance) into the rollup and the session summary now.</summary>
    /// <param name="cancellationToken">Cancels the fold.</param>
    /// <returns>A task that completes when the fold is committed.</returns>
    internal async ValueTask FoldAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await FoldOnAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask WriteRowsAsync(NpgsqlBinaryImporter importer, IReadOnlyList<TokenUsageRecord> records, int start, int count, CancellationToken cancellationToken)
    {
        var row = new CopyRow(importer);
        for (var r = start; r < start + count; r++)
        {
            var record = records[r] ?? throw new ArgumentException("The records contain null.", nameof(records));

            // One await per row (its start flushes a full buffer asynchronously); the values are written typed and synchronously
            // into the buffer (no object and no await per value). A value that does not fit flushes synchronously: the write runs
            // on the store's lane, never on the app's thread.
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            UsageRow.Write(record, escapeNul: true, ref row);
        }

        _ = await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FoldOnAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // Exclusive against the writers' shared lock: every write transaction that took a sequence has committed (or
                // rolled back), so the records up to MAX(seq) are all visible here and none can appear below it later.
                var range = new SqlText();
                range.Append("SELECT pg_advisory_xact_lock(" + range.Add(_foldLockKey) + "); SELECT (SELECT folded_seq FROM " + _dialect.RollupStateTable
                    + "), COALESCE((SELECT MAX(seq) FROM " + _dialect.UsageTable + "), 0)");
                long from, last;
                var command = range.CreateCommand(connection, transaction);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        _ = await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                        _ = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                        (from, last) = (reader.GetInt64(0), reader.GetInt64(1));
                    }
                }

                if (last <= from)
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    Interlocked.Exchange(ref _unfolded, 0);
                    return;
                }

                // In bounded steps, so a large backlog (after a crash) does not hold the lock for long at once.
                var to = Math.Min(last, from + StoreRollup.FoldChunk);
                if (!await _rollupFold.FoldAsync(connection, transaction, from, to, cancellationToken).ConfigureAwait(false))
                {
                    // A cost sum beyond decimal's 28 digits: the SQL fold sums numeric exactly.
                    var fold = new NpgsqlCommand(_foldCommand, connection, transaction);
                    await using (fold.ConfigureAwait(false))
                    {
                        _ = fold.Parameters.AddWithValue("from", from);
                        _ = fold.Parameters.AddWithValue("to", to);
                        _ = await fold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (to == last)
                {
                    Interlocked.Exchange(ref _unfolded, 0);
                    return;
                }
            }
        }
    }

    private async ValueTask<int> WriteBatchAsync(NpgsqlConnection connection, IReadOnlyList<TokenUsageRecord> records, int start, int count, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            // Shared against the fold's exclusive lock (see FoldAsync); then a savepoint for the replay path below.
            var begin = new SqlText();
            begin.Append("SELECT pg_advisory_xact_lock_shared(" + begin.Add(_foldLockKey) + "); SAVEPOINT tm_copy");
            _ = await ExecuteAsync(begin, connection, transaction, cancellationToken).ConfigureAwait(false);
            try
            {
                // The fast path: the batch COPYed straight into the records table.
                var importer = await connection.BeginBinaryImportAsync(_directCopyCommand, cancellationToken).ConfigureAwait(false);
                await using (importer.ConfigureAwait(false))
                {
                    await WriteRowsAsync(importer, records, start, count, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return count;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // An id already stored (a spool replay, a retry) or twice in the batch: the batch again through the stage table,
                // skipping those ids, so each id is stored exactly once.
                _ = await ExecuteAsync(new SqlText().Append("ROLLBACK TO SAVEPOINT tm_copy"), connection, transaction, cancellationToken).ConfigureAwait(false);
            }

            _ = await ExecuteAsync(new SqlText().Append(_stageCommand), connection, transaction, cancellationToken).ConfigureAwait(false);
            var stage = await connection.BeginBinaryImportAsync(_copyCommand, cancellationToken).ConfigureAwait(false);
            await using (stage.ConfigureAwait(false))
            {
                await WriteRowsAsync(stage, records, start, count, cancellationToken).ConfigureAwait(false);
            }

            var inserted = await ExecuteAsync(new SqlText().Append(_insertCommand), connection, transaction, cancellationToken).ConfigureAwait(false);
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
                + " AND seq <= (SELECT folded_seq FROM " + _dialect.RollupStateTable + ") ORDER BY ts LIMIT " + sql.Add(RetentionSchedule.ChunkSize) + ") RETURNING " + StoreRollup.SourceColumns + "), " + StoreRollup.Ctes
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

    /// <summary>Writes a row's values into a binary COPY, typed (see <see cref="UsageRow"/>).</summary>
    private readonly struct CopyRow(NpgsqlBinaryImporter importer) : IUsageRowWriter
    {
        public void Null() => importer.WriteNull();

        public void Id(Guid id) => importer.Write(id, NpgsqlDbType.Uuid);

        public void Int64(long value) => importer.Write(value, NpgsqlDbType.Bigint);

        public void Int32(int value) => importer.Write(value, NpgsqlDbType.Integer);

        public void Bool(bool value) => importer.Write(value, NpgsqlDbType.Boolean);

        public void Text(string value) => importer.Write(value, NpgsqlDbType.Text);

        // jsonb takes text; the JSON was written into a reused buffer, so this is its one string.
        public void Json(ReadOnlySpan<byte> utf8) => importer.Write(System.Text.Encoding.UTF8.GetString(utf8), NpgsqlDbType.Jsonb);

        public void Cost(decimal cost) => importer.Write(cost, NpgsqlDbType.Numeric);
    }
}

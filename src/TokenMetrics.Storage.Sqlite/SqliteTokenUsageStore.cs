using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>An <see cref="ITokenUsageStore"/> in one SQLite database file: WAL mode, one serialized writer connection with
/// batched, idempotent inserts, pooled reader connections, schema migrations and optional retention.</summary>
/// <remarks>The schema is created or migrated on first use. Several processes may share the file (SQLite locking, busy
/// timeout); for several app instances on several machines use the PostgreSQL store.</remarks>
public sealed class SqliteTokenUsageStore : ITokenUsageStore, IAsyncDisposable
{
    private const string StoreName = "SQLite";

    // Rows per multi-row INSERT: beyond about a hundred, longer statements save little more per row.
    private const int MaxInsertRows = 128;

    private readonly SqliteTokenUsageStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly RetentionSchedule _retention;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly string _connectionString;
    private SqliteConnection? _writer;
    // Multi-row inserts prepared once on the writer's handle (largest first, with their row counts); a batch is written as whole
    // chunks of the largest size, then the rest with the smaller ones. Bound by position through SQLitePCL directly:
    // SqliteCommand binds each parameter by name, a linear search per parameter, quadratic in a multi-row statement.
    // Each with what it has bound (SqliteStatementBinds: NULLs not bound again, text bound in place).
    private (SQLitePCL.sqlite3_stmt Statement, int Rows, SqliteStatementBinds Binds)[] _inserts = [];
    private SqliteCommand? _lastSeq;
    private SqliteCommand? _fold;
    private SqliteRollupFold? _rollupFold;
    private SqliteCommand? _foldRange;
    private long _unfolded;

    // The rollup rows of the records this instance wrote since the last fold, and the sequence range they fill: the fold uses them
    // when the range past the watermark is exactly theirs (no other writer, no skipped duplicate, no crash leftover), and reads
    // the records back otherwise.
    private readonly RollupAccumulator _pending = new(sessions: true);
    private long _pendingFrom;
    private long _pendingTo;
    private bool _pendingValid = true;

    // WAL pages are copied into the database file (and both fsynced) by a checkpoint. SQLite's own runs on the writer, inside the
    // commit that crosses wal_autocheckpoint, so a bulk write stalled on those fsyncs; this one runs on its own connection after
    // every CheckpointRecords records, beside the writer (a passive checkpoint never takes the write lock). The writer's
    // autocheckpoint stays as the bound when this one falls behind (a long reader, a failure).
    private Task _checkpoint = Task.CompletedTask;
    private long _uncheckpointed;

    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="SqliteTokenUsageStore"/> class.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="logger">The logger, if any.</param>
    /// <param name="timeProvider">The clock for retention; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SqliteTokenUsageStore(SqliteTokenUsageStoreOptions options, ILogger<SqliteTokenUsageStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, 100_000, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BusyTimeout, TimeSpan.Zero, nameof(options));
        if (options.PageSize is < 512 or > 65_536 || !int.IsPow2(options.PageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PageSize, "PageSize must be a power of two from 512 to 65,536.");
        }

        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _retention = new RetentionSchedule(options.Retention, options.RetentionSweepInterval, _timeProvider);
        _connectionString = BuildConnectionString(options);
    }

    /// <summary>Gets the full path of the database file, or <see langword="null"/> when a connection string was given.</summary>
    public string? DatabaseFullPath => _options.ConnectionString is null ? Path.GetFullPath(_options.DatabasePath) : null;

    /// <summary>Gets or sets a value indicating whether queries may read the rollup (false: always scan the records; the
    /// rollup is still kept). For tests and benchmarks that compare the two paths.</summary>
    internal bool UseRollup { get; set; } = true;

    /// <summary>Gets or sets how many records written by this instance wait before they are folded into the rollup (see
    /// <see cref="FoldAsync"/>); they are also folded before retention and on dispose. Queries are exact either way.</summary>
    internal long FoldThreshold { get; set; } = StoreRollup.FoldThreshold;

    /// <summary>Gets how many fold steps used the rollup rows summed as the records were written (the rest read the records back).
    /// For tests.</summary>
    internal long FoldsFromWrites { get; private set; }

    /// <summary>Gets or sets how many records written by this instance start a background checkpoint.</summary>
    internal long CheckpointRecords { get; set; } = 8_192;

    /// <summary>Gets the background checkpoint last started (completed when none runs).</summary>
    internal Task CheckpointCompletion => _checkpoint;

    /// <summary>Gets how many background checkpoints completed.</summary>
    internal long Checkpoints { get; private set; }

    /// <summary>Gets how many fold steps read their records back. For tests.</summary>
    internal long FoldsReadBack { get; private set; }

    /// <summary>Creates or migrates the schema now rather than on first use.</summary>
    /// <param name="cancellationToken">Cancels the initialization.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _writer) is not null)
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await InitializeLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
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

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await InitializeLockedAsync(cancellationToken).ConfigureAwait(false);
            var inserted = await RetentionSchedule.WriteBatchesAsync(records, _options.BatchSize, (start, count) => WriteBatchAsync(records, start, count, cancellationToken)).ConfigureAwait(false);
            _unfolded += inserted;
            _uncheckpointed += inserted;
            if (_uncheckpointed >= CheckpointRecords && _checkpoint.IsCompleted)
            {
                _uncheckpointed = 0;
                _checkpoint = Task.Factory.StartNew(Checkpoint, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }

            if (_unfolded >= FoldThreshold)
            {
                await FoldLockedAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_retention.TryClaim(out var cutoff))
            {
                // Retention subtracts folded records only: fold first.
                await FoldLockedAsync(cancellationToken).ConfigureAwait(false);
                await _retention.SweepAsync(() => DeleteChunkAsync(cutoff, cancellationToken), cutoff, _logger, StoreName).ConfigureAwait(false);
            }

            return inserted;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<TokenUsagePage> QueryAsync(TokenUsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.QueryAsync(connection, SqliteStoreDialect.Instance, query, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(TokenUsageAggregateQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.AggregateAsync(connection, SqliteStoreDialect.Instance, query, UseRollup, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(TokenUsageSessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await StoreQueries.GetSessionsAsync(connection, SqliteStoreDialect.Instance, query, UseRollup, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await InitializeLockedAsync(cancellationToken).ConfigureAwait(false);
            await FoldLockedAsync(cancellationToken).ConfigureAwait(false);
            return await RetentionSchedule.DeleteAllAsync(() => DeleteChunkAsync(cutoff, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_writer is not null && _unfolded > 0)
            {
                try
                {
                    await FoldLockedAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (SqliteException ex)
                {
                    // Not lost: the records are stored, and the next fold (this or another process) takes them.
                    StoreLog.FoldFailed(_logger, StoreName, ex);
                }
            }

            await _checkpoint.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var (statement, _, _) in _inserts)
            {
                _ = SQLitePCL.raw.sqlite3_finalize(statement);
            }

            _inserts = [];

            if (_lastSeq is not null)
            {
                await _lastSeq.DisposeAsync().ConfigureAwait(false);
            }

            _rollupFold?.Dispose();
            foreach (var command in new[] { _fold, _foldRange })
            {
                if (command is not null)
                {
                    await command.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (_writer is not null)
            {
                SqliteConnection.ClearPool(_writer);
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }

        _writeLock.Dispose();
    }

    private static string BuildConnectionString(SqliteTokenUsageStoreOptions options)
    {
        var builder = options.ConnectionString is { } cs
            ? new SqliteConnectionStringBuilder(cs)
            : new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(options.DatabasePath), Mode = SqliteOpenMode.ReadWriteCreate };
        builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds));
        return builder.ToString();
    }

    private void PrepareDatabaseFile()
    {
        if (_options.ConnectionString is not null)
        {
            return;
        }

        var path = Path.GetFullPath(_options.DatabasePath);
        var directory = Path.GetDirectoryName(path);
        if (OperatingSystem.IsWindows())
        {
            if (directory is not null)
            {
                _ = Directory.CreateDirectory(directory);
            }

            return;
        }

        if (directory is not null && !Directory.Exists(directory))
        {
            _ = Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            try
            {
                using var file = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another store (another instance of the app) created it between the check and here: theirs serves.
            }
        }
    }

    private async ValueTask<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var busy = new SqlText().Append("PRAGMA busy_timeout = " + ((long)_options.BusyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)).CreateCommand(connection);
            await using (busy.ConfigureAwait(false))
            {
                _ = await busy.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A passive checkpoint on a connection of its own. It blocks on fsync, so it runs on a thread of its own, not the pool's
    /// (a pool thread blocked there delayed the next write's continuation by the pool's thread injection).</summary>
    private void Checkpoint()
    {
        try
        {
            using var connection = new SqliteConnection(_connectionString);
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            _ = checkpoint.ExecuteNonQuery();
            Checkpoints++;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            StoreLog.CheckpointFailed(_logger, StoreName, ex);
        }
    }

    private async ValueTask<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await OpenAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask InitializeLockedAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            return;
        }

        PrepareDatabaseFile();
        var writer = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The page size takes effect only while the file is empty (before WAL mode is set): a new database gets it, an existing
            // one keeps its own. The writer's page cache (32 MiB at most, default 2 MiB) holds the indexes' hot pages, and the
            // rollup's GROUP BY (retention) sorts in memory rather than in a temporary file. The WAL is checkpointed every 40 MiB
            // of pages rather than every 1,000 pages: the checkpoint (copy into the database file, fsync) ran every few batches and
            // was most of a commit's time.
            var pageSize = _options.PageSize.ToString(CultureInfo.InvariantCulture);
            var checkpointPages = (40 << 20) / _options.PageSize;
            var pragmas = new SqlText().Append("PRAGMA page_size = " + pageSize + "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = "
                + checkpointPages.ToString(CultureInfo.InvariantCulture) + ";").CreateCommand(writer);
            await using (pragmas.ConfigureAwait(false))
            {
                _ = await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var (from, to) = await SchemaMigrator.MigrateAsync(writer, transaction, SqliteSchema.VersionTable, SqliteSchema.Migrations, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (from != to)
                {
                    StoreLog.Migrated(_logger, StoreName, from, to);
                }
            }

            // Rows per statement within SQLite's bound-parameter limit (32,766 in current builds; 999 in old ones).
            SqliteNativeBind.Check(writer.Handle!);
            var limit = SQLitePCL.raw.sqlite3_limit(writer.Handle, SQLitePCL.raw.SQLITE_LIMIT_VARIABLE_NUMBER, -1);
            var largest = Math.Clamp(limit / UsageColumns.All.Count, 1, MaxInsertRows);
            _inserts = new[] { largest, 8, 1 }.Where(n => n <= largest).Distinct().Select(n => (PrepareInsert(writer, n), n, new SqliteStatementBinds(n * UsageColumns.All.Count))).ToArray();
            _lastSeq = writer.CreateCommand();
            _lastSeq.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM tm_usage";

            _foldRange = writer.CreateCommand();
            _foldRange.CommandText = "SELECT (SELECT folded_seq FROM tm_rollup_state), COALESCE(MAX(seq), 0) FROM tm_usage";
            _fold = writer.CreateCommand();
            _fold.CommandText = "UPDATE tm_rollup_state SET folded_seq = @to";
            _ = _fold.Parameters.Add("@to", SqliteType.Integer);
            _rollupFold = new SqliteRollupFold(writer);

            // Records left unfolded by a crash (or by another process) are folded by this instance's next fold.
            _foldRange.Transaction = null;
            using (var reader = await _foldRange.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                _ = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);

                // Rows past the watermark are never deleted (retention takes folded ones only) and take consecutive rowids.
                _unfolded = Math.Max(0, reader.GetInt64(1) - reader.GetInt64(0));
            }

            Volatile.Write(ref _writer, writer);
        }
        catch
        {
            await writer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static SQLitePCL.sqlite3_stmt PrepareInsert(SqliteConnection connection, int rows)
    {
        var columns = UsageColumns.All;
        var tuple = "(" + string.Join(", ", Enumerable.Repeat("?", columns.Count)) + ")";
        var sql = "INSERT INTO tm_usage (" + UsageColumns.NameList + ") VALUES " + string.Join(", ", Enumerable.Repeat(tuple, rows)) + " ON CONFLICT (id) DO NOTHING";
        var rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        return statement;
    }

    private async ValueTask<int> WriteBatchAsync(IReadOnlyList<TokenUsageRecord> records, int start, int count, CancellationToken cancellationToken)
    {
        var writer = _writer!;
        var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            // New rows get rowids above every stored one: the transaction is BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default,
            // not deferred), so it holds the database's write lock from here and no other writer can add rows in between.
            _lastSeq!.Transaction = transaction;
            var last = Convert.ToInt64(await _lastSeq.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            var inserted = 0;
            var r = start;
            foreach (var (statement, rows, binds) in _inserts)
            {
                for (; start + count - r >= rows; r += rows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var binder = new SqliteRowBinder(statement, binds, 1);
                    for (var k = r; k < r + rows; k++)
                    {
                        var record = records[k] ?? throw new ArgumentException("The records contain null.", nameof(records));
                        UsageRow.Write(record, escapeNul: false, ref binder);
                    }

                    var rc = SQLitePCL.raw.sqlite3_step(statement);
                    _ = SQLitePCL.raw.sqlite3_reset(statement);
                    binds.Reset(); // the values bound in place were read by the step
                    if (rc != SQLitePCL.raw.SQLITE_DONE)
                    {
                        SqliteException.ThrowExceptionForRC(rc, writer.Handle);
                    }

                    inserted += SQLitePCL.raw.sqlite3_changes(writer.Handle); // ids already stored are skipped
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            Pend(records, start, count, last, inserted);
            return inserted;
        }
    }

    private void Pend(IReadOnlyList<TokenUsageRecord> records, int start, int count, long last, int inserted)
    {
        if (!_pendingValid)
        {
            return;
        }

        // The new rows took the rowids after `last` in order when none was skipped as a duplicate, and continue the pending range
        // when no other writer came in between.
        if (inserted != count || (_pending.Records > 0 && last != _pendingTo) || _pending.Records + count > StoreRollup.FoldChunk)
        {
            _pending.Clear();
            _pendingValid = false; // the next fold reads the records back
            return;
        }

        if (_pending.Records == 0)
        {
            _pendingFrom = last;
        }

        for (var i = start; i < start + count; i++)
        {
            _pending.Add(records[i], escapeNul: false, costUnits: true);
        }

        _pendingTo = last + inserted;
    }

    private void ResetPending()
    {
        _pending.Clear();
        _pendingValid = true;
    }

    /// <summary>Folds every record written so far (by any process) into the rollup now.</summary>
    /// <param name="cancellationToken">Cancels the fold.</param>
    /// <returns>A task that completes when the fold is committed.</returns>
    internal async ValueTask FoldAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await InitializeLockedAsync(cancellationToken).ConfigureAwait(false);
            await FoldLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask FoldLockedAsync(CancellationToken cancellationToken)
    {
        var writer = _writer!;
        while (true)
        {
            // BEGIN IMMEDIATE: the write lock, so no other process writes or folds between reading the watermark and moving it.
            var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                long from, last;
                _foldRange!.Transaction = transaction;
                var reader = await _foldRange.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    _ = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    (from, last) = (reader.GetInt64(0), reader.GetInt64(1));
                }

                if (last <= from)
                {
                    ResetPending();
                    _unfolded = 0;
                    return;
                }

                // In bounded steps, so a large backlog (after a crash) does not hold the write lock for long at once.
                var to = Math.Min(last, from + StoreRollup.FoldChunk);
                if (_pendingValid && _pending.Records > 0 && _pendingFrom == from && _pendingTo == last && _pending.Records == last - from)
                {
                    to = last;
                    _rollupFold!.Apply(_pending);
                    FoldsFromWrites++;
                }
                else
                {
                    _rollupFold!.Fold(transaction, from, to);
                    FoldsReadBack++;
                }

                ResetPending();
                _fold!.Transaction = transaction;
                _fold.Parameters[0].Value = to;
                _ = await _fold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (to == last)
                {
                    _unfolded = 0;
                    return;
                }
            }
        }
    }

    private async ValueTask<int> DeleteChunkAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var writer = _writer!;
        var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var sql = new SqlText();
            var cutoffParameter = sql.Add(cutoff.UtcTicks);
            var limitParameter = sql.Add(RetentionSchedule.ChunkSize);
            sql.Append("CREATE TEMP TABLE IF NOT EXISTS tm_doomed (seq INTEGER PRIMARY KEY); DELETE FROM tm_doomed; ")
                .Append("INSERT INTO tm_doomed (seq) SELECT seq FROM tm_usage WHERE ts < " + cutoffParameter
                    + " AND seq <= (SELECT folded_seq FROM tm_rollup_state) ORDER BY ts LIMIT " + limitParameter + "; ") // folded records only
                .Append("WITH " + StoreRollup.Ctes + " " + StoreRollup.Upsert(SqliteStoreDialect.Instance, "tm_usage", "u.seq IN (SELECT seq FROM tm_doomed)", -1) + "; ")
                .Append(StoreSessionSummary.Subtract(SqliteStoreDialect.Instance, "tm_usage", "u.seq IN (SELECT seq FROM tm_doomed)") + "; ")
                .Append("DELETE FROM tm_usage WHERE seq IN (SELECT seq FROM tm_doomed); ")

                // A new record takes the rowid after the largest one left: when the newest rows went, the watermark comes down to
                // it (every row left is folded), so new records are past it and get folded.
                .Append("UPDATE tm_rollup_state SET folded_seq = MIN(folded_seq, (SELECT COALESCE(MAX(seq), 0) FROM tm_usage)); ")
                .Append(StoreRollup.DeleteEmpty(SqliteStoreDialect.Instance, cutoffParameter) + "; ")
                .Append(StoreSessionSummary.DeleteEmpty(SqliteStoreDialect.Instance, cutoffParameter) + ";");
            int deleted;
            var command = sql.CreateCommand(writer, transaction);
            await using (command.ConfigureAwait(false))
            {
                _ = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var changes = new SqlText().Append("SELECT COUNT(*) FROM tm_doomed").CreateCommand(writer, transaction);
            await using (changes.ConfigureAwait(false))
            {
                deleted = Convert.ToInt32(await changes.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return deleted;
        }
    }
}

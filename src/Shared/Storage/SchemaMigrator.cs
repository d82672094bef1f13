using System.Collections.Generic;
using System.Data.Common;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TokenMetrics.Storage.Internal;

/// <summary>One schema version: the statements that take the schema from the previous version to this one.</summary>
/// <param name="Version">The version (1, 2, ...).</param>
/// <param name="Description">What it changes.</param>
/// <param name="Statements">The DDL statements, run in order inside the migration transaction.</param>
internal sealed record StoreMigration(int Version, string Description, IReadOnlyList<string> Statements);

/// <summary>Applies pending migrations and records each in a version table; refuses a database newer than the code.</summary>
internal static class SchemaMigrator
{
    /// <summary>Brings the schema up to the newest migration. The caller owns the transaction and any lock that serialises
    /// concurrent migrators (SQLite: <c>BEGIN IMMEDIATE</c>; PostgreSQL: an advisory transaction lock), and commits.</summary>
    /// <param name="connection">The open connection.</param>
    /// <param name="transaction">The migration transaction.</param>
    /// <param name="versionTable">The version table's (qualified) name, from constants and validated options.</param>
    /// <param name="migrations">Every migration, any order.</param>
    /// <param name="now">The time recorded for applied migrations.</param>
    /// <param name="cancellationToken">Cancels the migration.</param>
    /// <returns>The version before and after.</returns>
    /// <exception cref="InvalidOperationException">The database has a newer schema than this code knows.</exception>
    public static async ValueTask<(int From, int To)> MigrateAsync(
        DbConnection connection, DbTransaction transaction, string versionTable, IReadOnlyList<StoreMigration> migrations, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, new SqlText().Append(
            "CREATE TABLE IF NOT EXISTS " + versionTable + " (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at_utc_ticks BIGINT NOT NULL)"), cancellationToken).ConfigureAwait(false);

        int current;
        var read = new SqlText().Append("SELECT COALESCE(MAX(version), 0) FROM " + versionTable).CreateCommand(connection, transaction);
        await using (read.ConfigureAwait(false))
        {
            current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        var ordered = migrations.OrderBy(m => m.Version).ToList();
        var latest = ordered.Count == 0 ? 0 : ordered[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The TokenMetrics database schema is version {current}, newer than this package supports ({latest}). Upgrade the TokenMetrics storage package."));
        }

        foreach (var migration in ordered.Where(m => m.Version > current))
        {
            foreach (var statement in migration.Statements)
            {
                await ExecuteAsync(connection, transaction, new SqlText().Append(statement), cancellationToken).ConfigureAwait(false);
            }

            var insert = new SqlText();
            insert.Append("INSERT INTO " + versionTable + " (version, description, applied_at_utc_ticks) VALUES ("
                + insert.Add(migration.Version) + ", " + insert.Add(migration.Description) + ", " + insert.Add(now.UtcTicks) + ")");
            await ExecuteAsync(connection, transaction, insert, cancellationToken).ConfigureAwait(false);
        }

        return (current, Math.Max(current, latest));
    }

    private static async ValueTask ExecuteAsync(DbConnection connection, DbTransaction transaction, SqlText sql, CancellationToken cancellationToken)
    {
        var command = sql.CreateCommand(connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            _ = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>When the on-write retention sweep is due; thread-safe, one sweep at a time.</summary>
internal sealed class RetentionSchedule
{
    private readonly TimeSpan? _retention;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _timeProvider;
    private long _nextUtcTicks;

    public RetentionSchedule(TimeSpan? retention, TimeSpan interval, TimeProvider timeProvider)
    {
        if (retention is { } r && r <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), r, "Retention must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _retention = retention;
        _interval = interval;
        _timeProvider = timeProvider;
    }

    /// <summary>The most rows deleted per statement, so a sweep never holds a long lock.</summary>
    public const int ChunkSize = 5_000;

    /// <summary>The most chunks per on-write sweep; a sweep that hits it is due again at once.</summary>
    public const int MaxChunksPerSweep = 20;

    /// <summary>Claims the sweep when it is due.</summary>
    /// <param name="cutoff">Records older than this are to be deleted.</param>
    /// <returns><see langword="true"/> when the caller should sweep now.</returns>
    public bool TryClaim(out DateTimeOffset cutoff)
    {
        cutoff = default;
        if (_retention is not { } retention)
        {
            return false;
        }

        var now = _timeProvider.GetUtcNow();
        var next = Interlocked.Read(ref _nextUtcTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextUtcTicks, now.UtcTicks + _interval.Ticks, next) != next)
        {
            return false;
        }

        cutoff = now - retention;
        return true;
    }

    /// <summary>Makes the next write sweep again (the last sweep stopped at its bound, or failed).</summary>
    public void DueNow() => Interlocked.Exchange(ref _nextUtcTicks, 0);

    /// <summary>Deletes everything older than the cutoff, chunk by chunk.</summary>
    /// <param name="deleteChunk">Deletes at most <see cref="ChunkSize"/> records older than the cutoff; returns how many.</param>
    /// <returns>The number deleted.</returns>
    public static async ValueTask<long> DeleteAllAsync(Func<ValueTask<int>> deleteChunk)
    {
        long total = 0;
        int deleted;
        do
        {
            deleted = await deleteChunk().ConfigureAwait(false);
            total += deleted;
        }
        while (deleted == ChunkSize);

        return total;
    }

    /// <summary>The on-write sweep: at most <see cref="MaxChunksPerSweep"/> chunks; a failure is logged, never thrown (the
    /// records were written), and makes the next write sweep again.</summary>
    /// <param name="deleteChunk">Deletes at most <see cref="ChunkSize"/> records older than <paramref name="cutoff"/>; returns how many.</param>
    /// <param name="cutoff">The cutoff, for the log.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="store">The store name, for the log.</param>
    /// <returns>A task that completes when the sweep ends.</returns>
    public async ValueTask SweepAsync(Func<ValueTask<int>> deleteChunk, DateTimeOffset cutoff, ILogger logger, string store)
    {
        try
        {
            long total = 0;
            for (var chunk = 0; chunk < MaxChunksPerSweep; chunk++)
            {
                var deleted = await deleteChunk().ConfigureAwait(false);
                total += deleted;
                if (deleted < ChunkSize)
                {
                    StoreLog.RetentionSwept(logger, store, total, cutoff);
                    return;
                }
            }

            DueNow();
            StoreLog.RetentionSwept(logger, store, total, cutoff);
        }
        catch (Exception ex) when (ex is DbException or System.IO.IOException or TimeoutException)
        {
            DueNow();
            StoreLog.RetentionFailed(logger, store, ex);
        }
    }

    /// <summary>Writes records in batches of at most <paramref name="batchSize"/>.</summary>
    /// <param name="records">The records.</param>
    /// <param name="batchSize">The batch size.</param>
    /// <param name="writeBatch">Writes records [start, start + count) in one transaction; returns how many were new.</param>
    /// <returns>The number of records newly stored.</returns>
    public static async ValueTask<int> WriteBatchesAsync(IReadOnlyList<TokenUsageRecord> records, int batchSize, Func<int, int, ValueTask<int>> writeBatch)
    {
        var inserted = 0;
        for (var start = 0; start < records.Count; start += batchSize)
        {
            inserted += await writeBatch(start, Math.Min(batchSize, records.Count - start)).ConfigureAwait(false);
        }

        return inserted;
    }
}

/// <summary>The stores' log messages (no connection strings, no record contents).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "TokenMetrics {Store} store schema migrated from version {From} to {To}.")]
    public static partial void Migrated(ILogger logger, string store, int from, int to);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "TokenMetrics {Store} store retention deleted {Count} records older than {Cutoff:O}.")]
    public static partial void RetentionSwept(ILogger logger, string store, long count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "TokenMetrics {Store} store retention sweep failed; it is retried on the next write.")]
    public static partial void RetentionFailed(ILogger logger, string store, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "TokenMetrics {Store} store background checkpoint failed; the next one (or SQLite's own, on a write) copies those pages.")]
    public static partial void CheckpointFailed(ILogger logger, string store, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "TokenMetrics {Store} store could not fold records into the rollup on dispose; the next fold takes them (queries stay exact).")]
    public static partial void FoldFailed(ILogger logger, string store, Exception exception);
}

using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Where usage records are kept and queried: the source for reports, the dashboard, budgets and the CLI.</summary>
/// <remarks>
/// <para>Writes are idempotent by <see cref="TokenUsageRecord.Id"/>: writing a record twice (a replay from the spool, a retry after
/// a timeout that actually succeeded) stores it once. Implementations are thread-safe.</para>
/// <para>Register a store with its package's builder extension (for example <c>AddSqliteStore()</c>); it then also receives
/// records as an exporter, with the pipeline's retries and spool.</para>
/// </remarks>
public interface ITokenUsageStore
{
    /// <summary>Writes records, ignoring ids already stored.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The number of records newly stored.</returns>
    ValueTask<int> WriteAsync(IReadOnlyList<TokenUsageRecord> records, CancellationToken cancellationToken);

    /// <summary>Returns records, newest first, filtered and paged.</summary>
    /// <param name="query">The filter and page.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>One page of records and the total number matching.</returns>
    ValueTask<TokenUsagePage> QueryAsync(TokenUsageQuery query, CancellationToken cancellationToken);

    /// <summary>Returns totals grouped by the requested dimensions and time bucket.</summary>
    /// <param name="query">The filter, grouping and limit.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>One row per group, in <see cref="TokenUsageAggregateQuery.SortBy"/> order.</returns>
    ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(TokenUsageAggregateQuery query, CancellationToken cancellationToken);

    /// <summary>Returns sessions with their totals, in <see cref="TokenUsageSessionQuery.SortBy"/> order (paged by <see cref="TokenUsageSessionQuery.Offset"/>); with <see cref="TokenUsageFilter.SessionId"/>, one session with its rounds.</summary>
    /// <param name="query">The filter and limit.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The sessions.</returns>
    ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(TokenUsageSessionQuery query, CancellationToken cancellationToken);

    /// <summary>Deletes records older than <paramref name="cutoff"/> (retention).</summary>
    /// <param name="cutoff">Records with an earlier timestamp are deleted.</param>
    /// <param name="cancellationToken">Cancels the deletion.</param>
    /// <returns>The number of records deleted.</returns>
    ValueTask<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

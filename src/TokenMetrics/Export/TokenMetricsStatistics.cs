using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>A snapshot of the delivery pipeline's counters.</summary>
/// <remarks>Every record recorded ends up counted exactly once as filtered, dropped, or handed to the exporters
/// (<see cref="Dispatched"/>), or is still <see cref="Queued"/>.</remarks>
public sealed record TokenMetricsStatistics
{
    /// <summary>Gets the records received by <see cref="TokenUsageRecorder.Record(TokenUsageRecord)"/>.</summary>
    public long Received { get; init; }

    /// <summary>Gets the records removed by <see cref="TokenMetricsOptions.Filter"/>.</summary>
    public long Filtered { get; init; }

    /// <summary>Gets the records dropped because the queue was full or the pipeline had shut down.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the records handed to the exporters.</summary>
    public long Dispatched { get; init; }

    /// <summary>Gets the records waiting in the queue.</summary>
    public long Queued { get; init; }

    /// <summary>Gets the exceptions thrown by user callbacks (filters, enrichers) and swallowed.</summary>
    public long CallbackFailures { get; init; }

    /// <summary>Gets TokenMetrics' own errors that were swallowed so the app never saw them (see the event source).</summary>
    public long InternalErrors { get; init; }

    /// <summary>Gets the per-exporter counters, keyed by exporter name.</summary>
    public IReadOnlyDictionary<string, TokenUsageExporterStatistics> Exporters { get; init; } = new Dictionary<string, TokenUsageExporterStatistics>();
}

/// <summary>The counters of one exporter.</summary>
/// <param name="Exported">Records in batches the exporter delivered.</param>
/// <param name="Failed">Records in batches that failed, threw or timed out.</param>
/// <param name="FailedBatches">Batches that failed, threw or timed out.</param>
public sealed record TokenUsageExporterStatistics(long Exported, long Failed, long FailedBatches);

using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>A snapshot of the delivery pipeline's counters.</summary>
/// <remarks>Each exporter has its own queue: per exporter, every record received (and not filtered) is exported, spilled to the
/// spool (and later replayed), dropped, or still queued — see <see cref="TokenUsageExporterStatistics"/>.</remarks>
public sealed record TokenMetricsStatistics
{
    /// <summary>Gets the records received by <see cref="TokenUsageRecorder.Record(TokenUsageRecord)"/>.</summary>
    public long Received { get; init; }

    /// <summary>Gets the records removed by <see cref="TokenMetricsOptions.Filter"/>.</summary>
    public long Filtered { get; init; }

    /// <summary>Gets the records left out by sampling (<see cref="TokenMetricsSettings.SamplingRatio"/> below 1): not offered to any
    /// exporter, so totals summed from exported records are estimates while sampling is on.</summary>
    public long SampledOut { get; init; }

    /// <summary>Gets the records dropped, summed over exporters (queue full, export failed without room in the spool), plus those recorded after shutdown.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the records waiting, summed over exporters.</summary>
    public long Queued { get; init; }

    /// <summary>Gets the exceptions thrown by user callbacks (filters) and swallowed.</summary>
    public long CallbackFailures { get; init; }

    /// <summary>Gets TokenMetrics' own errors that were swallowed so the app never saw them (see the event source).</summary>
    public long InternalErrors { get; init; }

    /// <summary>Gets the records with usage whose model has no known price ("price unknown"): their cost is <see langword="null"/>, never 0.</summary>
    public long PriceUnknown { get; init; }

    /// <summary>Gets the records left unpriced because they carry no usage at all.</summary>
    public long UnpricedNoUsage { get; init; }

    /// <summary>Gets the calls a budget check let through (all budgets that apply had room; see <see cref="TokenUsageBudget"/>).</summary>
    public long BudgetAllowed { get; init; }

    /// <summary>Gets the calls refused by a budget (the record says <see cref="TokenUsageStatus.Rejected"/>).</summary>
    public long BudgetRejected { get; init; }

    /// <summary>Gets the budget counters skipped because the store failed or timed out (fail open: the call went out).</summary>
    public long BudgetFailedOpen { get; init; }

    /// <summary>Gets the calls refused because a fail-closed budget's store failed or timed out.</summary>
    public long BudgetFailedClosed { get; init; }

    /// <summary>Gets the per-exporter counters, keyed by exporter name (the type name, with <c>#index</c> when a type repeats).</summary>
    public IReadOnlyDictionary<string, TokenUsageExporterStatistics> Exporters { get; init; } = new Dictionary<string, TokenUsageExporterStatistics>();
}

/// <summary>The counters of one exporter.</summary>
/// <param name="Exported">Records delivered by normal export.</param>
/// <param name="FailedBatches">Batches whose export failed after retries, or met an open circuit.</param>
/// <remarks>Invariant: records offered to this exporter = <see cref="Exported"/> + <see cref="Spilled"/> + <see cref="Dropped"/> + <see cref="Queued"/>;
/// spilled records come back as <see cref="Replayed"/> once the backend recovers.</remarks>
public sealed record TokenUsageExporterStatistics(long Exported, long FailedBatches)
{
    /// <summary>Gets the records accepted into this exporter's queue.</summary>
    public long Enqueued { get; init; }

    /// <summary>Gets the records written to the spool: export failed, the queue overflowed during a burst, or shutdown left them.</summary>
    public long Spilled { get; init; }

    /// <summary>Gets the spooled records delivered later.</summary>
    public long Replayed { get; init; }

    /// <summary>Gets the records dropped, the last resort: queue and overflow full, or a batch (failed, or overflowed) found no spool or a full one.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the records waiting in the queue or its overflow, or in flight.</summary>
    public long Queued { get; init; }

    /// <summary>Gets the records that found the queue full and went to the overflow (then back into the queue, or to the spool).</summary>
    public long Overflowed { get; init; }

    /// <summary>Gets the export attempts that ran past <see cref="TokenMetricsOptions.ExportTimeout"/> (or the batch's total budget).</summary>
    public long TimedOutExports { get; init; }

    /// <summary>Gets the export calls still running after their timeout (an exporter blocking and ignoring its token); at
    /// four the exporter is not called again until one returns.</summary>
    public long AbandonedExports { get; init; }

    /// <summary>Gets the records not offered to this exporter because it was switched off (<see cref="TokenMetricsSettings.DisabledExporters"/>);
    /// outside the invariant above (they were never offered), and not lost for the other exporters.</summary>
    public long Skipped { get; init; }

    /// <summary>Gets the bytes in this exporter's spool.</summary>
    public long SpoolBytes { get; init; }

    /// <summary>Gets the batch files in this exporter's spool.</summary>
    public long SpoolFiles { get; init; }

    /// <summary>Gets the spool files that failed their checks and were set aside as <c>.bad</c>.</summary>
    public long CorruptSpoolFiles { get; init; }
}

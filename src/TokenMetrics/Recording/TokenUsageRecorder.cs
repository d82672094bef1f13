using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>The one runtime object behind TokenMetrics: both layers hand it their records, and it queues them for the exporters.</summary>
/// <remarks>
/// <para><see cref="Record(TokenUsageRecord)"/> never blocks and never throws: a full queue drops the record and counts it.
/// Exporters run on a background dispatcher, each fenced and timed out.</para>
/// <para>One instance per application (a singleton under dependency injection). Dispose it, or stop the host, to flush.</para>
/// </remarks>
public sealed partial class TokenUsageRecorder : IAsyncDisposable, IDisposable
{
    private static readonly InvalidOperationException EstimationBacklogFull = new("The estimation backlog is full: the call was recorded without an estimate.");
    private readonly TokenUsageExportWorker _worker;
    private readonly EstimationStage _estimation;
    private readonly Meter? _ownedMeter;
    private readonly ILogger _logger;
    private readonly TokenUsagePricer _pricing;
    private long _received;
    private long _filtered;
    private long _sampledOut;
    private long _callbackFailures;
    private long _internalErrors;
    private TokenMetricsSettings _settings;
    private ContentPolicy? _contentPolicy;

    /// <summary>Initializes a new instance of the <see cref="TokenUsageRecorder"/> class.</summary>
    /// <param name="options">The settings; validated here.</param>
    /// <param name="exporters">Where records go.</param>
    /// <param name="estimator">Counts tokens when the vendor reports none; defaults to <see cref="TiktokenTokenEstimator"/> (exact for OpenAI models, flagged approximate for others).</param>
    /// <param name="timeProvider">The clock; defaults to <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">For the pipeline's own warnings; optional.</param>
    /// <param name="meterFactory">Creates the meter for the pipeline counters; optional.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="exporters"/> is <see langword="null"/>.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options are invalid.</exception>
    public TokenUsageRecorder(
        TokenMetricsOptions options,
        IEnumerable<ITokenUsageExporter> exporters,
        ITokenEstimator? estimator = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(exporters);
        TokenMetricsOptionsValidation.ThrowIfInvalid(options);
        Options = options;
        Estimator = estimator ?? TiktokenTokenEstimator.Instance;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TokenMetrics");
        _pricing = new TokenUsagePricer(options.Pricing, TimeProvider, _logger, ReportInternalError);
        _worker = new TokenUsageExportWorker(exporters.ToArray(), options, TimeProvider, _logger);
        ExporterNames = _worker.Lanes.Select(l => l.Name).ToArray();
        try
        {
            _settings = TokenMetricsSettingsRules.FromOptions(options, ExporterNames);
        }
        catch
        {
            _worker.Dispose(); // an unknown exporter name: stop the lanes just started
            throw;
        }
        _estimation = new EstimationStage(this, Deliver, options.MaxQueueSize, Math.Max(options.MaxQueueBytes, 64L * 1024 * 1024));
        Meter = meterFactory?.Create(new MeterOptions(options.MeterName) { Version = ThisAssembly.Version })
            ?? (_ownedMeter = new Meter(new MeterOptions(options.MeterName) { Version = ThisAssembly.Version }));
        CreateCounters(Meter);
        Attribution = AttributionSettings.Create(options.Attribution);
        Budgets = new BudgetEnforcer(this, _logger);
    }

    /// <summary>Gets the settings.</summary>
    public TokenMetricsOptions Options { get; }

    /// <summary>Gets the estimator used when no usage is reported.</summary>
    public ITokenEstimator Estimator { get; }

    /// <summary>Gets the clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the exporters, in registration order.</summary>
    public IReadOnlyList<ITokenUsageExporter> Exporters => _worker.Exporters;

    /// <summary>Gets the settings in force now; read once per call (a change swaps the snapshot whole).</summary>
    internal TokenMetricsSettings Settings => Volatile.Read(ref _settings);

    /// <summary>Gets the exporters' names, in registration order (the keys of <see cref="TokenMetricsStatistics.Exporters"/>).</summary>
    internal IReadOnlyList<string> ExporterNames { get; }

    /// <summary>Gets the attribution settings (baggage keys), compiled from <see cref="TokenMetricsOptions.Attribution"/>.</summary>
    internal AttributionSettings Attribution { get; }

    /// <summary>Gets how captured content is redacted and cut (from <see cref="TokenMetricsOptions.Content"/>, fixed at start-up).</summary>
    internal ContentPolicy ContentPolicy => _contentPolicy ??= new ContentPolicy(Options.Content ?? new TokenMetricsContentOptions(), this);

    /// <summary>Gets the budget checks (src/TokenMetrics/Budgets); used only when <see cref="TokenMetricsSettings.Budgets"/> is set.</summary>
    internal BudgetEnforcer Budgets { get; }

    /// <summary>Gets the meter TokenMetrics' instruments live on.</summary>
    internal Meter Meter { get; }

    /// <summary>Queues a record for export. Never blocks, never throws.</summary>
    /// <param name="record">The record; ignored when <see langword="null"/>.</param>
    public void Record(TokenUsageRecord record)
    {
        if (record is null)
        {
            return;
        }

        Interlocked.Increment(ref _received);
        try
        {
            _estimation.Submit(record);
        }
        catch (Exception ex)
        {
            ReportInternalError(nameof(Record), ex);
            TokenMetricsSpans.Abort(record.Span);
        }
    }

    /// <summary>Queues a record whose usage is estimated on the background side, before any exporter sees it: the caller
    /// (the app's last read, the chat client's return) never waits for the estimator.</summary>
    /// <param name="record">The record, as it stands without the estimate.</param>
    /// <param name="estimate">What the call captured to estimate from; released here or after counting.</param>
    internal void RecordWithEstimate(TokenUsageRecord record, PendingEstimate estimate)
    {
        Interlocked.Increment(ref _received);
        try
        {
            if (_estimation.TrySubmit(record, estimate))
            {
                return;
            }

            // Over the bound: the record still goes, without the estimate (Source stays Missing), and the skip is counted.
            estimate.Release();
            ReportInternalError(nameof(EstimationStage), EstimationBacklogFull);
            _estimation.Submit(record);
        }
        catch (Exception ex)
        {
            ReportInternalError(nameof(Record), ex);
            TokenMetricsSpans.Abort(record.Span);
        }
    }

    /// <summary>Gets the records waiting for estimation or export, without the snapshot <see cref="GetStatistics"/> allocates.</summary>
    internal long QueuedRecords => _worker.Queued + _estimation.Count;

    /// <summary>Returns a snapshot of the pipeline counters.</summary>
    /// <returns>The counters.</returns>
    public TokenMetricsStatistics GetStatistics() => new()
    {
        Received = Interlocked.Read(ref _received),
        Filtered = Interlocked.Read(ref _filtered),
        SampledOut = Interlocked.Read(ref _sampledOut),
        Dropped = _worker.Dropped,
        Queued = QueuedRecords,
        CallbackFailures = Interlocked.Read(ref _callbackFailures),
        InternalErrors = Interlocked.Read(ref _internalErrors),
        PriceUnknown = _pricing.PriceUnknown,
        UnpricedNoUsage = _pricing.NoUsage,
        BudgetAllowed = Budgets.Allowed,
        BudgetRejected = Budgets.Rejected,
        BudgetFailedOpen = Budgets.FailedOpen,
        BudgetFailedClosed = Budgets.FailedClosed,
        Exporters = _worker.GetExporterStatistics(),
    };

    /// <summary>Exports everything queued before this call.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting (the export itself goes on).</param>
    /// <returns>Whether everything was delivered, something failed, or time ran out.</returns>
    public async Task<TokenMetricsFlushResult> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        // Records still being estimated were queued before this call too: they are delivered first.
        var start = TimeProvider.GetTimestamp();
        if (!await _estimation.DrainAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            return TokenMetricsFlushResult.TimedOut;
        }

        return await _worker.FlushAsync(Remaining(timeout, start), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops accepting records, exports what is queued within <see cref="TokenMetricsOptions.ShutdownTimeout"/>, and disposes the exporters.</summary>
    /// <returns>The outcome; records left after the timeout are counted as dropped.</returns>
    public async Task<TokenMetricsFlushResult> ShutdownAsync()
    {
        var start = TimeProvider.GetTimestamp();
        var drained = await _estimation.DrainAsync(Options.ShutdownTimeout, CancellationToken.None).ConfigureAwait(false);
        var result = await _worker.ShutdownAsync(Remaining(Options.ShutdownTimeout, start)).ConfigureAwait(false);
        return drained ? result : TokenMetricsFlushResult.TimedOut;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _ = await ShutdownAsync().ConfigureAwait(false);
        _worker.Dispose();
        _pricing.Dispose();
        _ownedMeter?.Dispose();
        Attribution.Release();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Sync-over-async only here, bounded by ShutdownTimeout; DI prefers DisposeAsync.
        _ = Task.Run(ShutdownAsync).Wait(Options.ShutdownTimeout + TimeSpan.FromSeconds(2));
        _worker.Dispose();
        _pricing.Dispose();
        _ownedMeter?.Dispose();
        Attribution.Release();
    }

    /// <summary>Swaps the settings snapshot; the next call reads the new one.</summary>
    internal void ApplySettings(TokenMetricsSettings settings) => Volatile.Write(ref _settings, settings);

    internal void ReportInternalError(string where, Exception exception)
    {
        Interlocked.Increment(ref _internalErrors);
        TokenMetricsEventSource.Log.InternalError(where, exception);
        LogInternalError(_logger, where, exception);
    }

    internal void ReportCallbackFailure(string callback, Exception exception)
    {
        Interlocked.Increment(ref _callbackFailures);
        TokenMetricsEventSource.Log.CallbackFailed(callback, exception);
        LogCallbackFailed(_logger, callback, exception);
    }

    // Debug: swallowed by design (the app never sees them); counted in GetStatistics() and on the event source.
    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "TokenMetrics swallowed an internal error in {Where}; the call was not affected.")]
    private static partial void LogInternalError(ILogger logger, string where, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "TokenMetrics user callback {Callback} threw; the exception was swallowed and counted.")]
    private static partial void LogCallbackFailed(ILogger logger, string callback, Exception exception);

    /// <summary>Returns reported usage (total filled in) when there is any.</summary>
    internal static bool TryUseReported(TokenUsage? reported, out TokenUsage usage)
    {
        if (reported is not { IsEmpty: false })
        {
            usage = TokenUsage.Empty;
            return false;
        }

        usage = reported.TotalTokenCount is not null ? reported : new TokenUsage
        {
            InputTokenCount = reported.InputTokenCount,
            OutputTokenCount = reported.OutputTokenCount,
            TotalTokenCount = reported.GetTotalOrSum(),
            CachedInputTokenCount = reported.CachedInputTokenCount,
            CacheWriteInputTokenCount = reported.CacheWriteInputTokenCount,
            ReasoningTokenCount = reported.ReasoningTokenCount,
            InputTokenDetails = reported.InputTokenDetails,
            OutputTokenDetails = reported.OutputTokenDetails,
        };
        return true;
    }

    /// <summary>Whether a call with this status and no reported usage is estimated (never mixed with reported counts).</summary>
    internal bool ShouldEstimate(TokenUsageStatus status) =>
        status != TokenUsageStatus.Rejected && Settings.EstimateMissingUsage && (status != TokenUsageStatus.Error || Options.EstimateFailedCalls);

    /// <summary>Builds estimated usage from the input and output estimates; <see cref="TokenUsageSource.Missing"/> when there are none
    /// or both counted nothing.</summary>
    internal static (TokenUsage Usage, TokenUsageSource Source, string? Method) FromEstimates(TokenEstimate? input, TokenEstimate? output)
    {
        // An estimate of 0 means there was nothing to count (no prompt found, no answer text): 0 would be a claim, so that side is
        // unknown (null), and with nothing on either side the usage is missing (null counts), never an estimated 0.
        if (input is { Tokens: <= 0 })
        {
            input = null;
        }

        if (output is { Tokens: <= 0 })
        {
            output = null;
        }

        if (input is null && output is null)
        {
            return (TokenUsage.Empty, TokenUsageSource.Missing, null);
        }

        var usage = new TokenUsage
        {
            InputTokenCount = input?.Tokens,
            OutputTokenCount = output?.Tokens,
            TotalTokenCount = (input?.Tokens ?? 0) + (output?.Tokens ?? 0),
        };
        return (usage, TokenUsageSource.Estimated, input?.Method ?? output?.Method);
    }

    /// <summary>The last steps before the exporters: pricing, the span, sampling, the filter, then the per-exporter queues (each
    /// skipped while its exporter is switched off).</summary>
    private void Deliver(TokenUsageRecord record)
    {
        var settings = Settings;
        _pricing.Apply(record, settings); // never throws; first, so the span, the filter and every exporter see the cost
        if (record.Budget is { } reservation)
        {
            // The usage and cost are final here (estimated or reported, priced): the reservation becomes the actual amounts.
            record.Budget = null;
            reservation.Reconcile(record);
        }

        try
        {
            // The span is stopped here, before sampling or the filter can drop the record.
            TokenMetricsSpans.Complete(this, record);

            if (IsSampledOut(record, settings))
            {
                return;
            }

            if (Options.Filter is { } filter && !RunFilter(filter, record))
            {
                Interlocked.Increment(ref _filtered);
                return;
            }

            _worker.Enqueue(record, settings.DisabledExporters);
        }
        catch (Exception ex)
        {
            ReportInternalError(nameof(Record), ex);
            TokenMetricsSpans.Abort(record.Span);
        }
    }

    /// <summary>Sampling (a runtime setting): decided per record id, so a record is always kept or always left out; counted.</summary>
    private bool IsSampledOut(TokenUsageRecord record, TokenMetricsSettings settings)
    {
        if (!TokenUsageSampling.IsSampledOut(record.Id, settings.SamplingRatio))
        {
            return false;
        }

        Interlocked.Increment(ref _sampledOut);
        return true;
    }

    private TimeSpan Remaining(TimeSpan timeout, long start)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }

        var left = timeout - TimeProvider.GetElapsedTime(start);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private bool RunFilter(Func<TokenUsageRecord, bool> filter, TokenUsageRecord record)
    {
        try
        {
            return filter(record);
        }
        catch (Exception ex)
        {
            ReportCallbackFailure(nameof(TokenMetricsOptions.Filter), ex);
            return true;
        }
    }

    private void CreateCounters(Meter meter)
    {
        _ = meter.CreateObservableCounter("tokenmetrics.records.received", () => Interlocked.Read(ref _received), "{record}", "Usage records received by the pipeline.");
        _ = meter.CreateObservableCounter("tokenmetrics.records.filtered", () => Interlocked.Read(ref _filtered), "{record}", "Usage records removed by the filter.");
        _ = meter.CreateObservableCounter("tokenmetrics.records.sampled_out", () => Interlocked.Read(ref _sampledOut), "{record}", "Usage records left out by sampling (SamplingRatio below 1).");
        _ = meter.CreateObservableUpDownCounter("tokenmetrics.records.queued", () => _worker.Queued, "{record}", "Usage records waiting for export, all exporters.");
        _ = meter.CreateObservableCounter("tokenmetrics.callback.failures", () => Interlocked.Read(ref _callbackFailures), "{exception}", "Exceptions thrown by user callbacks and swallowed.");
        _ = meter.CreateObservableCounter("tokenmetrics.internal.errors", () => Interlocked.Read(ref _internalErrors), "{exception}", "TokenMetrics' own errors, swallowed so the app never saw them.");
        _ = meter.CreateObservableCounter("tokenmetrics.records.unpriced", UnpricedMeasurements, "{record}", "Records left without a cost: reason price_unknown (no price for the model) or no_usage.");
        _ = meter.CreateObservableCounter("tokenmetrics.export.records", ExportMeasurements, "{record}", "Records per exporter and outcome: exported, spilled, replayed, dropped, skipped (exporter switched off).");
    }

    private Measurement<long>[] UnpricedMeasurements() =>
    [
        new(_pricing.PriceUnknown, new KeyValuePair<string, object?>("tokenmetrics.reason", "price_unknown")),
        new(_pricing.NoUsage, new KeyValuePair<string, object?>("tokenmetrics.reason", "no_usage")),
    ];

    /// <summary>Gets the price catalog in force now (shipped, configured, file and runtime prices combined).</summary>
    internal TokenUsagePriceCatalog PriceCatalog => _pricing.GetCatalog(Settings.PriceOverrides);

    private IEnumerable<Measurement<long>> ExportMeasurements()
    {
        foreach (var (name, stats) in _worker.GetExporterStatistics())
        {
            var exporter = new KeyValuePair<string, object?>("tokenmetrics.exporter", name);
            yield return new Measurement<long>(stats.Exported, exporter, new KeyValuePair<string, object?>("tokenmetrics.outcome", "exported"));
            yield return new Measurement<long>(stats.Spilled, exporter, new KeyValuePair<string, object?>("tokenmetrics.outcome", "spilled"));
            yield return new Measurement<long>(stats.Replayed, exporter, new KeyValuePair<string, object?>("tokenmetrics.outcome", "replayed"));
            yield return new Measurement<long>(stats.Dropped, exporter, new KeyValuePair<string, object?>("tokenmetrics.outcome", "dropped"));
            yield return new Measurement<long>(stats.Skipped, exporter, new KeyValuePair<string, object?>("tokenmetrics.outcome", "skipped"));
        }
    }
}

using System.Collections.Generic;
using System.ComponentModel.DataAnnotations;

namespace TokenMetrics;

/// <summary>Global TokenMetrics settings: estimation and the delivery pipeline.</summary>
/// <remarks>Bindable from configuration (section <c>TokenMetrics</c> by convention) and validated at start-up.</remarks>
public sealed class TokenMetricsOptions
{
    /// <summary>Gets or sets a value indicating whether calls are metered at all.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether usage is estimated (and flagged <see cref="TokenUsageSource.Estimated"/>)
    /// when the vendor reports none; otherwise such records say <see cref="TokenUsageSource.Missing"/>.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool EstimateMissingUsage { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether failed calls (HTTP error status, exception) without reported usage are
    /// estimated too. Vendors usually bill nothing for them, so by default their usage stays <see cref="TokenUsageSource.Missing"/>.</summary>
    /// <value>The default is <see langword="false"/>. Cancelled and truncated calls are always estimated (vendors bill them).</value>
    public bool EstimateFailedCalls { get; set; }

    /// <summary>Gets or sets the share of calls whose records are exported, between 0 (none) and 1 (all). Sampling is decided per
    /// record id, so the same record is always kept or always left out; left-out records are counted in
    /// <see cref="TokenMetricsStatistics.SampledOut"/>, and totals summed from the rest are estimates (divide by the ratio).</summary>
    /// <value>Between 0 and 1. The default is 1 (every record).</value>
    /// <remarks>A runtime setting: follows configuration reloads and <see cref="TokenMetricsSettingsService"/>.</remarks>
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>Gets the names of exporters switched off: their records are skipped (counted per exporter as
    /// <see cref="TokenUsageExporterStatistics.Skipped"/>), the other exporters are not affected. Names are those of
    /// <see cref="TokenMetricsStatistics.Exporters"/> (the exporter's type name, with <c>#index</c> when a type repeats),
    /// compared ignoring case; an unknown name is a configuration error.</summary>
    /// <remarks>A runtime setting: follows configuration reloads and <see cref="TokenMetricsSettingsService"/>.</remarks>
    public IList<string> DisabledExporters { get; } = [];

    /// <summary>Gets or sets the maximum number of records waiting for export per exporter; beyond it records go to the overflow
    /// (see <see cref="MaxOverflowSize"/>), then to the spool.</summary>
    /// <value>Between 1 and 1,000,000. The default is 2048 (OpenTelemetry's batch processor default).</value>
    [Range(1, 1_000_000)]
    public int MaxQueueSize { get; set; } = 2048;

    /// <summary>Gets or sets the most records per exporter held in memory when its queue is full, on their way to the spool (or,
    /// without a spool, waiting for room in the queue); beyond it, or beyond <see cref="MaxQueueBytes"/> of them, records are dropped and counted.</summary>
    /// <value>Between 0 (no overflow) and 1,000,000. The default is 8192.</value>
    /// <remarks>Adding to the queue never blocks the app's thread: a background task moves overflowed records on.</remarks>
    [Range(0, 1_000_000)]
    public int MaxOverflowSize { get; set; } = 8192;

    /// <summary>Gets or sets the maximum number of records handed to an exporter at once.</summary>
    /// <value>Between 1 and <see cref="MaxQueueSize"/>. The default is 512.</value>
    [Range(1, 1_000_000)]
    public int MaxExportBatchSize { get; set; } = 512;

    /// <summary>Gets or sets the longest a record waits before its batch is exported.</summary>
    /// <value>Between 10 ms and 1 hour. The default is 1 second.</value>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest one exporter may take for one batch before it is abandoned and counted as failed.</summary>
    /// <value>Between 10 ms and 10 minutes. The default is 30 seconds.</value>
    public TimeSpan ExportTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest one batch may take across all its attempts and retry delays; past it the batch goes
    /// to the spool (or is dropped and counted).</summary>
    /// <value>Between 10 ms and 1 hour, and at least <see cref="ExportTimeout"/>. The default is 2 minutes.</value>
    public TimeSpan ExportTotalTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets how long shutdown (host stop or dispose) waits to flush queued records.</summary>
    /// <value>Between 0 and 10 minutes. The default is 5 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the name of the <see cref="System.Diagnostics.Metrics.Meter"/> that TokenMetrics' instruments use.</summary>
    /// <value>The default is <see cref="TokenMetricsDiagnostics.MeterName"/>.</value>
    [Required]
    public string MeterName { get; set; } = TokenMetricsDiagnostics.MeterName;

    /// <summary>Gets or sets where calls are attributed from besides <see cref="TokenMetricsScope"/> and <c>ChatOptions</c>: W3C baggage
    /// (read, and optionally set by scopes). Bound from <c>TokenMetrics:Attribution</c>.</summary>
    public TokenMetricsAttributionOptions Attribution { get; set; } = new();

    /// <summary>Gets which attribution values (user, consumer, session, feature) become labels on the OpenTelemetry metrics,
    /// and how their values are bounded (allow-list or first-N then <c>other</c>; user ids optionally HMAC-hashed). All off by default.</summary>
    public TokenUsageMetricLabelOptions MetricLabels { get; } = new();

    /// <summary>Gets or sets a filter run before a record is queued; return <see langword="false"/> to drop it (counted as filtered).</summary>
    /// <remarks>If the filter throws, the record is kept and the failure counted.</remarks>
    public Func<TokenUsageRecord, bool>? Filter { get; set; }

    /// <summary>Gets or sets the most bytes (estimated record size) waiting per exporter in its queue, and again in its overflow;
    /// beyond it records go to the overflow, then are dropped and counted.</summary>
    /// <value>Between 64 KiB and 4 GiB. The default is 16 MiB.</value>
    [Range(64 * 1024L, 4L * 1024 * 1024 * 1024)]
    public long MaxQueueBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Gets or sets how many times a failed export is retried (jittered exponential backoff, at least the backend's
    /// <c>Retry-After</c>) before the batch goes to the spool.</summary>
    /// <value>Between 0 and 20. The default is 3.</value>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the base delay of the retry backoff.</summary>
    /// <value>Between 1 ms and 1 minute. The default is 500 ms.</value>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets how long an exporter's circuit stays open after it kept failing (batches then go straight to the spool).</summary>
    /// <value>Between 500 ms (Polly's minimum) and 1 hour. The default is 15 seconds.</value>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the directory where batches that could not be exported, or that overflowed a full queue, are kept until
    /// they can be (one subdirectory per exporter, owner-only permissions, checksummed entries). <see langword="null"/> turns the
    /// spool off: failed batches are then dropped and counted, and overflowed records wait in memory. There is deliberately no
    /// default location (no temporary-directory or home-directory fallback): choose one per application.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>Gets or sets the most bytes kept in the spool per exporter; beyond it batches are dropped and counted.</summary>
    /// <value>Between 1 MiB and 1 TiB. The default is 256 MiB.</value>
    [Range(1024 * 1024L, 1024L * 1024 * 1024 * 1024)]
    public long MaxSpoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Gets or sets how often spooled batches are retried (and at start-up, and after each successful export).</summary>
    /// <value>Between 100 ms and 1 hour. The default is 5 seconds.</value>
    public TimeSpan ReplayInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets a value indicating whether conversation content (the last user message, the answer, reasoning and tool
    /// calls) is captured on records, for stores and the ai_log exporter; never on metrics or spans. Off by default; the initial
    /// value of <see cref="TokenMetricsSettings.CaptureContent"/>, which can be changed at run time.</summary>
    /// <value>The default is <see langword="false"/>: prompts and answers stay out of every sink unless switched on.</value>
    /// <remarks>A runtime setting: follows configuration reloads and <see cref="TokenMetricsSettingsService"/>.</remarks>
    public bool CaptureContent { get; set; }

    /// <summary>Gets or sets how content is captured when <see cref="CaptureContent"/> is on: length limit, parts, redaction.</summary>
    [Microsoft.Extensions.Options.ValidateObjectMembers]
    public TokenMetricsContentOptions Content { get; set; } = new();

    /// <summary>Gets or sets what TokenMetrics puts on traces: GenAI client spans and the usage and cost of existing ones.</summary>
    [Required]
    public TokenMetricsTracingOptions Tracing { get; set; } = new();

    /// <summary>Gets or sets how records are priced (configuration section <c>TokenMetrics:Pricing</c>).</summary>
    public TokenMetricsPricingOptions Pricing { get; set; } = new();

    /// <summary>Gets the budgets checked before each call leaves the process (configuration section <c>TokenMetrics:Budgets</c>, a list);
    /// the initial value of <see cref="TokenMetricsSettings.Budgets"/>, which can be changed at run time. Validated at start-up.</summary>
    /// <value>Empty by default: no budget, no extra work per call.</value>
    public IList<TokenUsageBudget> Budgets { get; set; } = new List<TokenUsageBudget>();

    /// <summary>Gets or sets how long a budget check waits for the counter store before the budget fails open (or closed, see
    /// <see cref="TokenUsageBudget.FailClosed"/>).</summary>
    /// <value>The default is 250 ms.</value>
    public TimeSpan BudgetStoreTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}

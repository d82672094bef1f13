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

    /// <summary>Gets or sets the maximum number of records waiting for export; beyond it records are dropped and counted.</summary>
    /// <value>Between 1 and 1,000,000. The default is 2048 (OpenTelemetry's batch processor default).</value>
    [Range(1, 1_000_000)]
    public int MaxQueueSize { get; set; } = 2048;

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

    /// <summary>Gets or sets how long shutdown (host stop or dispose) waits to flush queued records.</summary>
    /// <value>Between 0 and 10 minutes. The default is 5 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the name of the <see cref="System.Diagnostics.Metrics.Meter"/> that TokenMetrics' instruments use.</summary>
    /// <value>The default is <see cref="TokenMetricsDiagnostics.MeterName"/>.</value>
    [Required]
    public string MeterName { get; set; } = TokenMetricsDiagnostics.MeterName;

    /// <summary>Gets or sets a filter run before a record is queued; return <see langword="false"/> to drop it (counted as filtered).</summary>
    /// <remarks>If the filter throws, the record is kept and the failure counted.</remarks>
    public Func<TokenUsageRecord, bool>? Filter { get; set; }
}

using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Options of the Prometheus aggregator (<see cref="TokenMetricsPrometheus"/>).</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>Gets or sets the metric name prefix; invalid characters become <c>_</c>.</summary>
    /// <value>Defaults to <c>tokenmetrics</c>, so metrics are named <c>tokenmetrics_tokens_total</c> and so on.</value>
    public string MetricPrefix { get; set; } = "tokenmetrics";

    /// <summary>Gets or sets a value indicating whether the <c>consumer</c> label is emitted.</summary>
    /// <value>Defaults to <see langword="false"/>: consumers can be many (cardinality); enable it only when they are few and known.</value>
    public bool IncludeConsumer { get; set; }

    /// <summary>Gets or sets the most series one metric may have. Observations for new label sets beyond it go to one overflow
    /// series whose label values are all <c>other</c> (except <c>token_type</c>), and are counted in <c>tokenmetrics_series_overflow_total</c>.</summary>
    /// <value>Defaults to 2000, OpenTelemetry's cardinality limit. At least 1.</value>
    public int MaxSeriesPerMetric { get; set; } = 2000;

    /// <summary>Gets or sets the longest label value kept; longer values are cut.</summary>
    /// <value>Defaults to 128 characters. At least 1.</value>
    public int MaxLabelValueLength { get; set; } = 128;

    /// <summary>Gets or sets how many recent record ids are remembered so a replayed record is not counted twice; 0 disables it.</summary>
    /// <value>Defaults to 10,000.</value>
    public int DeduplicationWindow { get; set; } = 10_000;

    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(MetricPrefix))
        {
            errors.Add("PrometheusExporterOptions.MetricPrefix must not be empty.");
        }

        if (MaxSeriesPerMetric < 1)
        {
            errors.Add("PrometheusExporterOptions.MaxSeriesPerMetric must be at least 1.");
        }

        if (MaxLabelValueLength < 1)
        {
            errors.Add("PrometheusExporterOptions.MaxLabelValueLength must be at least 1.");
        }

        if (DeduplicationWindow < 0)
        {
            errors.Add("PrometheusExporterOptions.DeduplicationWindow must not be negative.");
        }

        return errors;
    }
}

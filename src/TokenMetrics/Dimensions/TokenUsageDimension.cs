using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Where the value of a <see cref="TokenUsageDimension"/> comes from (Higress <c>value_source</c>).</summary>
public enum TokenUsageDimensionSource
{
    /// <summary>The fixed text in <see cref="TokenUsageDimension.Value"/>.</summary>
    FixedValue,

    /// <summary>The outgoing request header named by <see cref="TokenUsageDimension.Value"/>.</summary>
    RequestHeader,

    /// <summary>The request body (JSON) at the path in <see cref="TokenUsageDimension.Value"/>; needs the body to be inspected
    /// (up to <see cref="TokenMetricsHandlerOptions.MaxInspectedRequestBytes"/>, asynchronous sends only).</summary>
    RequestBody,

    /// <summary>The response header named by <see cref="TokenUsageDimension.Value"/>.</summary>
    ResponseHeader,

    /// <summary>The response body at the path in <see cref="TokenUsageDimension.Value"/>: a JSON body, or for a
    /// <c>text/event-stream</c> the last event whose JSON has the path (Higress rule <c>replace</c>).</summary>
    ResponseBody,
}

/// <summary>A named value read from each metered HTTP call and recorded with it: on the record's
/// <see cref="TokenUsageRecord.Tags"/> (logs and stores) and/or as a label on the metrics (seed 000 <c>dimensions</c>).</summary>
/// <example><code>
/// options.Dimensions.Add(new TokenUsageDimension { Name = "team", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-team" });
/// options.Dimensions.Add(new TokenUsageDimension { Name = "finish", Source = TokenUsageDimensionSource.ResponseBody, Value = "choices.0.finish_reason", ApplyToMetric = true });
/// </code></example>
public sealed class TokenUsageDimension
{
    private MetricLabelGuard? _guard;

    /// <summary>Gets or sets the name: the tag key on the record and the metric label.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets or sets where the value comes from.</summary>
    /// <value>The default is <see cref="TokenUsageDimensionSource.FixedValue"/>.</value>
    public TokenUsageDimensionSource Source { get; set; }

    /// <summary>Gets or sets the fixed value, the header name, or the JSON path (<c>a.b.0.c</c>, <c>messages.@reverse.0.content</c>),
    /// depending on <see cref="Source"/>.</summary>
    public string? Value { get; set; }

    /// <summary>Gets or sets the value recorded when the source has none.</summary>
    /// <value>The default is <see langword="null"/>: no tag, and the label <c>none</c> on metrics.</value>
    public string? DefaultValue { get; set; }

    /// <summary>Gets or sets a value indicating whether the value goes on the record's tags (logs, stores, exporters).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool ApplyToLog { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the value becomes a label on the OpenTelemetry metrics. Opt-in:
    /// every distinct value is a new time series, so the label is guarded (<see cref="AllowedMetricValues"/> or
    /// <see cref="MaxMetricValues"/>).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool ApplyToMetric { get; set; }

    /// <summary>Gets the values allowed as metric labels; any other value is labelled <c>other</c>. When empty,
    /// <see cref="MaxMetricValues"/> applies instead.</summary>
    public IList<string> AllowedMetricValues { get; } = new List<string>();

    /// <summary>Gets or sets how many distinct values become metric labels (the first ones seen); later new values are labelled <c>other</c>.</summary>
    /// <value>Between 1 and 10000. The default is 100.</value>
    public int MaxMetricValues { get; set; } = 100;

    /// <summary>The label guard, created once the options are in use (shared by every handler built from these options).</summary>
    internal MetricLabelGuard Guard => _guard ?? System.Threading.Interlocked.CompareExchange(ref _guard, new MetricLabelGuard(AllowedMetricValues, MaxMetricValues, null), null) ?? _guard;
}

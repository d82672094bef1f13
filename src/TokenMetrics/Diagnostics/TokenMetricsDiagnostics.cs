namespace TokenMetrics;

/// <summary>Names of TokenMetrics' own telemetry. Renaming any of them is a breaking change.</summary>
public static class TokenMetricsDiagnostics
{
    /// <summary>The default meter name, used by the meter exporter and the pipeline counters.</summary>
    public const string MeterName = "TokenMetrics";

    /// <summary>The <see cref="System.Diagnostics.Tracing.EventSource"/> name for self-diagnostics.</summary>
    public const string EventSourceName = "TokenMetrics";
}

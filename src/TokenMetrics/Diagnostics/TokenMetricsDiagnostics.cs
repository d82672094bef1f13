namespace TokenMetrics;

/// <summary>Names of TokenMetrics' own telemetry. Renaming any of them is a breaking change.</summary>
public static class TokenMetricsDiagnostics
{
    /// <summary>The default meter name, used by the meter exporter and the pipeline counters.</summary>
    public const string MeterName = "TokenMetrics";

    /// <summary>The <see cref="System.Diagnostics.Tracing.EventSource"/> name for self-diagnostics.</summary>
    public const string EventSourceName = "TokenMetrics";

    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name of the OpenTelemetry GenAI client spans TokenMetrics starts
    /// when no GenAI span exists for a call (add it to a tracer with <c>AddSource("TokenMetrics")</c>).</summary>
    public const string ActivitySourceName = "TokenMetrics";
}

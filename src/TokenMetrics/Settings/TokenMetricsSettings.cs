using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>The settings TokenMetrics reads on every call and that can change while the app runs (an immutable snapshot:
/// a change swaps the whole snapshot, so one call never sees half of an update).</summary>
public sealed record TokenMetricsSettings
{
    /// <summary>Gets the settings in force when nothing was configured.</summary>
    public static TokenMetricsSettings Default { get; } = new();

    /// <summary>Gets a value indicating whether calls are metered at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Gets a value indicating whether missing usage is estimated.</summary>
    public bool EstimateMissingUsage { get; init; } = true;

    /// <summary>Gets a value indicating whether conversation content (question, answer, reasoning, tool calls) is captured.</summary>
    public bool CaptureContent { get; init; }

    /// <summary>Gets the share of calls recorded, between 0 and 1.</summary>
    public double SamplingRatio { get; init; } = 1.0;

    /// <summary>Gets the names of exporters switched off (their records are skipped, counted as filtered).</summary>
    public IReadOnlySet<string>? DisabledExporters { get; init; }

    /// <summary>Gets price overrides by model name (or pattern), applied over the catalog and configured prices.</summary>
    public IReadOnlyDictionary<string, TokenUsagePrice>? PriceOverrides { get; init; }
}

using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>The settings TokenMetrics reads on every call and that can change while the app runs (an immutable snapshot:
/// a change swaps the whole snapshot, so one call never sees half of an update).</summary>
/// <remarks>
/// <para>Read the snapshot in force from <see cref="TokenMetricsSettingsService.Current"/>; change it with
/// <see cref="TokenMetricsSettingsService.Update(Func{TokenMetricsSettings, TokenMetricsSettings}, string?)"/>
/// (for example <c>service.Update(s =&gt; s with { SamplingRatio = 0.1 }, "load test")</c>).</para>
/// <para>Snapshots applied by the service hold their own immutable copies of <see cref="DisabledExporters"/> and
/// <see cref="PriceOverrides"/>: changing a collection after handing it over changes nothing.</para>
/// </remarks>
public sealed record TokenMetricsSettings
{
    /// <summary>Gets the settings in force when nothing was configured.</summary>
    public static TokenMetricsSettings Default { get; } = new();

    /// <summary>Gets a value indicating whether calls are metered at all.</summary>
    /// <value>The default is <see langword="true"/>. Read by the handler and the chat client at the start of each call.</value>
    public bool Enabled { get; init; } = true;

    /// <summary>Gets a value indicating whether missing usage is estimated.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool EstimateMissingUsage { get; init; } = true;

    /// <summary>Gets a value indicating whether conversation content (question, answer, reasoning, tool calls) is captured.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CaptureContent { get; init; }

    /// <summary>Gets the share of records exported, between 0 and 1 (decided per record id; see <see cref="TokenMetricsOptions.SamplingRatio"/>).</summary>
    /// <value>The default is 1 (every record).</value>
    public double SamplingRatio { get; init; } = 1.0;

    /// <summary>Gets the names of exporters switched off (their records are skipped, counted per exporter as
    /// <see cref="TokenUsageExporterStatistics.Skipped"/>); names as in <see cref="TokenMetricsStatistics.Exporters"/>.</summary>
    /// <value>The default is <see langword="null"/> (every exporter on).</value>
    public IReadOnlySet<string>? DisabledExporters { get; init; }

    /// <summary>Gets price overrides by model name (or pattern), applied over the catalog and configured prices.</summary>
    /// <value>The default is <see langword="null"/> (none). Keys compare ignoring case in snapshots applied by the service.</value>
    public IReadOnlyDictionary<string, TokenUsagePrice>? PriceOverrides { get; init; }

    /// <summary>Gets the budgets checked before each call (see <see cref="TokenUsageBudget"/>); the initial value is
    /// <see cref="TokenMetricsOptions.Budgets"/>.</summary>
    /// <value>The default is <see langword="null"/> (none: calls pay one null check). A change applies from the next call; counters
    /// are kept per budget name and limit, so changing a limit keeps what the current window has used.</value>
    public IReadOnlyList<TokenUsageBudget>? Budgets { get; init; }
}

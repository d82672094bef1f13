using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>How records are priced: the shipped catalog, your own prices, Azure deployment names, aliases and a price file.</summary>
/// <remarks>
/// <para>Bound from the configuration section <c>TokenMetrics:Pricing</c> (it is <see cref="TokenMetricsOptions.Pricing"/>) and
/// validated at start-up. Precedence, highest first: the runtime <see cref="TokenMetricsSettings.PriceOverrides"/>, then
/// <see cref="PriceFile"/>, then <see cref="Prices"/>, then the shipped catalog (<see cref="TokenUsagePriceCatalog.Default"/>).
/// A user price whose name is a catalog key replaces that entry's prices (for every provider and all its aliases and
/// snapshots); any other name is a new entry.</para>
/// </remarks>
public sealed class TokenMetricsPricingOptions
{
    /// <summary>Gets or sets a value indicating whether records are priced (<see cref="TokenUsageRecord.Cost"/>).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the shipped catalog is used; when <see langword="false"/> only your prices are.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseBuiltInCatalog { get; set; } = true;

    /// <summary>Gets your prices by model name, in USD per 1M tokens (<c>TokenMetrics:Pricing:Prices:my-model:Input</c>); a name ending
    /// in <c>*</c> prices every model that starts with the rest.</summary>
    public IDictionary<string, TokenUsagePrice> Prices { get; } = new Dictionary<string, TokenUsagePrice>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets deployment names (Azure OpenAI) mapped to the model they run (<c>"prod-chat": "gpt-4o"</c>).</summary>
    public IDictionary<string, string> Deployments { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets model names mapped to the catalog model that prices them (for example a gateway's own name for a vendor model).</summary>
    public IDictionary<string, string> Aliases { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets a JSON file of prices (a map of model name to prices, or the shipped catalog's format), reloaded when
    /// it changes on disk; an unreadable update keeps the previous prices and is logged.</summary>
    public string? PriceFile { get; set; }
}

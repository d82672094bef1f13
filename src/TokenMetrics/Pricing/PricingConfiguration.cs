using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace TokenMetrics;

/// <summary>Binds <c>TokenMetrics:Pricing:Prices</c>: <see cref="TokenUsagePrice"/> is an immutable record (init-only), which the
/// source-generated binder leaves empty, so its rates are read here, by hand and trim-safe.</summary>
internal static class PricingConfiguration
{
    public static void BindPrices(IConfiguration pricing, TokenMetricsPricingOptions options)
    {
        foreach (var model in pricing.GetSection(nameof(TokenMetricsPricingOptions.Prices)).GetChildren())
        {
            options.Prices[model.Key] = ReadPrice(model);
        }
    }

    private static TokenUsagePrice ReadPrice(IConfigurationSection section)
    {
        List<TokenUsagePriceTier>? tiers = null;
        foreach (var tier in section.GetSection(nameof(TokenUsagePrice.Tiers)).GetChildren())
        {
            tiers ??= [];
            tiers.Add(new TokenUsagePriceTier
            {
                AboveInputTokens = (long)(Rate(tier, nameof(TokenUsagePriceTier.AboveInputTokens)) ?? 0),
                Price = ReadPrice(tier.GetSection(nameof(TokenUsagePriceTier.Price)).Exists() ? tier.GetSection(nameof(TokenUsagePriceTier.Price)) : tier),
            });
        }

        return new TokenUsagePrice
        {
            Input = Rate(section, nameof(TokenUsagePrice.Input)),
            CachedInput = Rate(section, nameof(TokenUsagePrice.CachedInput)),
            CacheWrite = Rate(section, nameof(TokenUsagePrice.CacheWrite)),
            CacheWrite1h = Rate(section, nameof(TokenUsagePrice.CacheWrite1h)),
            Output = Rate(section, nameof(TokenUsagePrice.Output)),
            Reasoning = Rate(section, nameof(TokenUsagePrice.Reasoning)),
            BatchInput = Rate(section, nameof(TokenUsagePrice.BatchInput)),
            BatchOutput = Rate(section, nameof(TokenUsagePrice.BatchOutput)),
            Tiers = tiers,
            Currency = section[nameof(TokenUsagePrice.Currency)] ?? "USD",
        };
    }

    private static decimal? Rate(IConfigurationSection section, string name)
    {
        var text = section[name];
        if (text is null)
        {
            return null;
        }

        return decimal.TryParse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OptionsValidationException(
                nameof(TokenMetricsOptions),
                typeof(TokenMetricsOptions),
                [$"Property Pricing.Prices[{section.Key}].{name}: '{text}' is not a number (USD per 1M tokens)."]);
    }
}

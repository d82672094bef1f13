using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Options;

namespace TokenMetrics;

/// <summary>Start-up checks of <see cref="TokenMetricsPricingOptions"/>: a wrong price is an error now, not a wrong bill later.</summary>
internal static class PricingOptionsValidation
{
    public static void Validate(ValidateOptionsResultBuilder builder, TokenMetricsPricingOptions? options)
    {
        if (options is null)
        {
            builder.AddError("must not be null", nameof(TokenMetricsOptions.Pricing));
            return;
        }

        foreach (var (model, price) in options.Prices)
        {
            var name = $"{nameof(TokenMetricsOptions.Pricing)}.{nameof(TokenMetricsPricingOptions.Prices)}[{model}]";
            if (string.IsNullOrWhiteSpace(model) || model.Trim() == "*")
            {
                builder.AddError("needs a model name", name);
            }

            if (price is null)
            {
                builder.AddError("must have prices", name);
                continue;
            }

            CheckPrice(builder, price, name);
        }

        CheckMap(builder, options.Deployments, nameof(TokenMetricsPricingOptions.Deployments));
        CheckMap(builder, options.Aliases, nameof(TokenMetricsPricingOptions.Aliases));
        if (options.PriceFile is { } file)
        {
            var name = $"{nameof(TokenMetricsOptions.Pricing)}.{nameof(TokenMetricsPricingOptions.PriceFile)}";
            if (string.IsNullOrWhiteSpace(file) || !File.Exists(file))
            {
                builder.AddError($"'{file}' does not exist", name);
            }
            else
            {
                try
                {
                    _ = PriceCatalogJson.Parse(File.ReadAllText(file), file);
                }
                catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
                {
                    builder.AddError($"'{file}' cannot be read: {ex.Message}", name);
                }
            }
        }
    }

    public static void CheckPrice(ValidateOptionsResultBuilder builder, TokenUsagePrice price, string name)
    {
        decimal?[] rates = [price.Input, price.CachedInput, price.CacheWrite, price.CacheWrite1h, price.Output, price.Reasoning, price.BatchInput, price.BatchOutput];
        if (Array.Exists(rates, r => r < 0))
        {
            builder.AddError("prices must not be negative", name);
        }

        if (price.Input is null && price.Output is null)
        {
            builder.AddError("needs at least an Input or an Output price", name);
        }

        if (string.IsNullOrWhiteSpace(price.Currency))
        {
            builder.AddError("needs a currency", name);
        }

        foreach (var tier in price.Tiers ?? [])
        {
            if (tier is null || tier.AboveInputTokens < 0 || tier.Price is null)
            {
                builder.AddError("a tier needs AboveInputTokens >= 0 and prices", name);
            }
        }
    }

    private static void CheckMap(ValidateOptionsResultBuilder builder, IDictionary<string, string> map, string property)
    {
        foreach (var (key, value) in map)
        {
            if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(value))
            {
                builder.AddError($"'{key}' -> '{value}': both names are required", $"{nameof(TokenMetricsOptions.Pricing)}.{property}");
            }
        }
    }
}

using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;

namespace TokenMetrics;

/// <summary>Reads price catalogs (the shipped format, or a plain model → prices map) without reflection (trim- and AOT-safe).</summary>
internal static class PriceCatalogJson
{
    public static List<TokenUsagePriceEntry> Parse(string json, string? source)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("A price catalog is a JSON object.");
            }

            var entries = new List<TokenUsagePriceEntry>();
            if (TryGet(root, "models", out var models) && models.ValueKind == JsonValueKind.Array)
            {
                var currency = TryGet(root, "currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "USD";
                foreach (var model in models.EnumerateArray())
                {
                    var key = TryGet(model, "key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
                    if (string.IsNullOrWhiteSpace(key))
                    {
                        throw new FormatException("Every catalog entry needs a \"key\".");
                    }

                    entries.Add(ReadEntry(key, model, currency, source));
                }
            }
            else
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new FormatException($"The prices of '{property.Name}' must be a JSON object.");
                    }

                    entries.Add(ReadEntry(property.Name, property.Value, "USD", source));
                }
            }

            return entries;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The price catalog is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException($"The price catalog has a value of the wrong type: {ex.Message}", ex);
        }
    }

    private static TokenUsagePriceEntry ReadEntry(string key, JsonElement element, string currency, string? source)
    {
        var price = ReadPrice(element, key, currency);
        return new TokenUsagePriceEntry
        {
            Key = key.Trim(),
            Provider = ReadString(element, "provider"),
            Price = price,
            Aliases = ReadStrings(element, "aliases"),
            Prefixes = ReadStrings(element, "prefixes"),
            Source = ReadString(element, "source") ?? source,
            Date = ReadString(element, "date") is { } date
                ? DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture)
                : null,
        };
    }

    private static TokenUsagePrice ReadPrice(JsonElement element, string key, string currency)
    {
        List<TokenUsagePriceTier>? tiers = null;
        if (TryGet(element, "tiers", out var tierArray) && tierArray.ValueKind == JsonValueKind.Array)
        {
            tiers = [];
            foreach (var tier in tierArray.EnumerateArray())
            {
                var above = TryGet(tier, "aboveInputTokens", out var a) ? a.GetInt64() : throw new FormatException($"A tier of '{key}' has no aboveInputTokens.");
                tiers.Add(new TokenUsagePriceTier { AboveInputTokens = above, Price = ReadPrice(tier, key, currency) });
            }
        }

        return new TokenUsagePrice
        {
            Input = ReadRate(element, "input", key),
            CachedInput = ReadRate(element, "cachedInput", key),
            CacheWrite = ReadRate(element, "cacheWrite", key),
            CacheWrite1h = ReadRate(element, "cacheWrite1h", key),
            Output = ReadRate(element, "output", key),
            Reasoning = ReadRate(element, "reasoning", key),
            BatchInput = ReadRate(element, "batchInput", key),
            BatchOutput = ReadRate(element, "batchOutput", key),
            Tiers = tiers,
            Currency = ReadString(element, "currency") ?? currency,
        };
    }

    private static decimal? ReadRate(JsonElement element, string name, string key)
    {
        if (!TryGet(element, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var rate) || rate < 0)
        {
            throw new FormatException($"'{key}': {name} must be a non-negative number (USD per 1M tokens).");
        }

        return rate;
    }

    private static string? ReadString(JsonElement element, string name) =>
        TryGet(element, name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[]? ReadStrings(JsonElement element, string name)
    {
        if (!TryGet(element, name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } s)
            {
                list.Add(s);
            }
        }

        return list.ToArray();
    }

    private static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(name) || string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}

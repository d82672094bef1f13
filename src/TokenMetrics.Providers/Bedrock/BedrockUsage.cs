using System.Text.Json;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Reads a Bedrock Converse <c>usage</c> object (<c>TokenUsage</c> in the AWS API reference).</summary>
/// <remarks>
/// <para>With prompt caching on, Bedrock's <c>inputTokens</c> counts only the input neither read from nor written to the cache
/// (AWS user guide, "Prompt caching": total input = <c>inputTokens</c> + <c>cacheReadInputTokens</c> + <c>cacheWriteInputTokens</c>),
/// the same shape as Anthropic's own API. TokenMetrics normalises to cache inside input, and keeps the raw figures
/// (<c>inputTokens</c>, <c>cacheReadInputTokens</c>, <c>cacheWriteInputTokens</c>, <c>totalTokens</c>) in the input details.</para>
/// <para>The normalised total is input (with cache) + output; Bedrock's own <c>totalTokens</c> is kept raw.</para>
/// </remarks>
internal static class BedrockUsage
{
    public static TokenUsage? Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() ? Parse(ref reader) : null;
    }

    public static TokenUsage? Parse(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        long? input = null, output = null, total = null, cacheRead = null, cacheWrite = null;
        TokenCountDictionary? cacheDetails = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("inputTokens"u8))
            {
                reader.Read();
                input = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("outputTokens"u8))
            {
                reader.Read();
                output = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("totalTokens"u8))
            {
                reader.Read();
                total = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cacheReadInputTokens"u8))
            {
                reader.Read();
                cacheRead = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cacheWriteInputTokens"u8))
            {
                reader.Read();
                cacheWrite = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cacheDetails"u8))
            {
                reader.Read();
                cacheDetails = ReadCacheDetails(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return Create(input, output, total, cacheRead, cacheWrite, cacheDetails);
    }

    /// <summary>Reads <c>cacheDetails</c>, the cache writes per TTL (<c>[{"inputTokens": n, "ttl": "5m"|"1h"}]</c>, AWS API
    /// reference <c>CacheDetail</c>), as <c>cacheDetails.{ttl}</c> entries.</summary>
    private static TokenCountDictionary? ReadCacheDetails(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        TokenCountDictionary? result = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? ttl = null;
            long? tokens = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("ttl"u8))
                {
                    reader.Read();
                    ttl = reader.TokenType == JsonTokenType.String ? (reader.ValueTextEquals("5m"u8) ? "5m" : reader.ValueTextEquals("1h"u8) ? "1h" : reader.GetString()) : null;
                }
                else if (reader.ValueTextEquals("inputTokens"u8))
                {
                    reader.Read();
                    tokens = JsonText.ReadCount(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (ttl is not null && tokens is { } n)
            {
                (result ??= new TokenCountDictionary()).Set("cacheDetails." + ttl, n);
            }
        }

        return result;
    }

    public static TokenUsage? Create(long? input, long? output, long? total, long? cacheRead, long? cacheWrite, TokenCountDictionary? cacheDetails = null)
    {
        if (input is null && output is null && total is null && cacheRead is null && cacheWrite is null)
        {
            return null;
        }

        long? normalisedInput = input is null && cacheRead is null && cacheWrite is null ? null : (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0);
        var details = new TokenCountDictionary();
        Set(details, "inputTokens", input);
        Set(details, "cacheReadInputTokens", cacheRead);
        Set(details, "cacheWriteInputTokens", cacheWrite);
        Set(details, "totalTokens", total);
        if (cacheDetails is not null)
        {
            foreach (var (name, value) in cacheDetails)
            {
                details.Set(name, value);
            }
        }
        return new TokenUsage
        {
            InputTokenCount = normalisedInput,
            OutputTokenCount = output,
            TotalTokenCount = normalisedInput is null || output is null ? total : normalisedInput + output,
            CachedInputTokenCount = cacheRead,
            CacheWriteInputTokenCount = cacheWrite,
            InputTokenDetails = details.Count > 0 ? details : null,
        };
    }

    private static void Set(TokenCountDictionary details, string name, long? value)
    {
        if (value is { } v)
        {
            details.Set(name, v);
        }
    }
}

using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Storage.Internal;

/// <summary>How record values are written to and read from SQL columns, the same for every SQL store.</summary>
/// <remarks>
/// <para>Time is stored as UTC <see cref="DateTime.Ticks"/> (100 ns since 0001-01-01, always positive) plus the original
/// offset in minutes, so a record round-trips to the tick and hour/day buckets are integer arithmetic in any SQL dialect.</para>
/// <para>Enums are stored as stable lowercase names (<c>ok</c>, <c>chat_client</c>), never as the CLR ordinal.</para>
/// <para>PostgreSQL text and jsonb cannot hold U+0000. Stores that set <c>escapeNul</c> store strings through
/// <see cref="Encode"/>: U+0000 becomes U+E000 '0' and U+E000 becomes U+E000 U+E000, a bijection that leaves every string
/// without those two characters unchanged, so equality filters still work on the encoded form.</para>
/// </remarks>
internal static class StoreValues
{
    /// <summary>Ticks in one hour.</summary>
    public const long HourTicks = TimeSpan.TicksPerHour;

    /// <summary>Ticks in one day.</summary>
    public const long DayTicks = TimeSpan.TicksPerDay;

    private const char Escape = '\uE000';

    public static string? Encode(string? value, bool escapeNul)
    {
        if (!escapeNul || value is null || value.AsSpan().IndexOfAny('\0', Escape) < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\0' => builder.Append(Escape).Append('0'),
                Escape => builder.Append(Escape).Append(Escape),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    public static string? Decode(string? value, bool escapeNul)
    {
        if (!escapeNul || value is null || !value.Contains(Escape, StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == Escape && i + 1 < value.Length)
            {
                builder.Append(value[++i] == '0' ? '\0' : Escape);
            }
            else
            {
                builder.Append(value[i]);
            }
        }

        return builder.ToString();
    }

    public static long ToUtcTicks(DateTimeOffset value) => value.UtcTicks;

    public static DateTimeOffset FromUtcTicks(long utcTicks, int offsetMinutes)
    {
        var offset = TimeSpan.FromMinutes(offsetMinutes);
        return new DateTimeOffset(utcTicks + offset.Ticks, offset);
    }

    public static string StatusName(TokenUsageStatus status) => status switch
    {
        TokenUsageStatus.Ok => "ok",
        TokenUsageStatus.Error => "error",
        TokenUsageStatus.Cancelled => "cancelled",
        TokenUsageStatus.Truncated => "truncated",
        TokenUsageStatus.Abandoned => "abandoned",
        TokenUsageStatus.Capped => "capped",
        TokenUsageStatus.Rejected => "rejected",
        _ => ((int)status).ToString(CultureInfo.InvariantCulture),
    };

    public static TokenUsageStatus ParseStatus(string value) => value switch
    {
        "ok" => TokenUsageStatus.Ok,
        "error" => TokenUsageStatus.Error,
        "cancelled" => TokenUsageStatus.Cancelled,
        "truncated" => TokenUsageStatus.Truncated,
        "abandoned" => TokenUsageStatus.Abandoned,
        "capped" => TokenUsageStatus.Capped,
        "rejected" => TokenUsageStatus.Rejected,
        _ => (TokenUsageStatus)int.Parse(value, CultureInfo.InvariantCulture),
    };

    public static string SourceName(TokenUsageSource source) => source switch
    {
        TokenUsageSource.Missing => "missing",
        TokenUsageSource.Reported => "reported",
        TokenUsageSource.Estimated => "estimated",
        _ => ((int)source).ToString(CultureInfo.InvariantCulture),
    };

    public static TokenUsageSource ParseSource(string value) => value switch
    {
        "missing" => TokenUsageSource.Missing,
        "reported" => TokenUsageSource.Reported,
        "estimated" => TokenUsageSource.Estimated,
        _ => (TokenUsageSource)int.Parse(value, CultureInfo.InvariantCulture),
    };

    public static string LayerName(TokenUsageLayer layer) => layer switch
    {
        TokenUsageLayer.Http => "http",
        TokenUsageLayer.ChatClient => "chat_client",
        TokenUsageLayer.Manual => "manual",
        _ => ((int)layer).ToString(CultureInfo.InvariantCulture),
    };

    public static TokenUsageLayer ParseLayer(string value) => value switch
    {
        "http" => TokenUsageLayer.Http,
        "chat_client" => TokenUsageLayer.ChatClient,
        "manual" => TokenUsageLayer.Manual,
        _ => (TokenUsageLayer)int.Parse(value, CultureInfo.InvariantCulture),
    };

    /// <summary>The effective model a record is grouped under: response, else routed, else request model.</summary>
    public static string? EffectiveModel(TokenUsageRecord record) => record.ResponseModel ?? record.RoutedModel ?? record.RequestModel;

    /// <summary>Writes token-count details as one JSON object (keys through <see cref="Encode"/>).</summary>
    public static void WriteCounts(Utf8JsonWriter writer, IReadOnlyDictionary<string, long> counts, bool escapeNul)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in counts)
        {
            writer.WriteNumber(Encode(key, escapeNul)!, value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes tags as one JSON object of strings (keys and values through <see cref="Encode"/>).</summary>
    public static void WriteTags(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> tags, bool escapeNul)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in tags)
        {
            writer.WriteString(Encode(key, escapeNul)!, Encode(value, escapeNul));
        }

        writer.WriteEndObject();
    }

    public static Dictionary<string, long>? CountsFromJson(string? json, bool escapeNul)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            result[Decode(property.Name, escapeNul)!] = property.Value.GetInt64();
        }

        return result;
    }

    public static Dictionary<string, string>? TagsFromJson(string? json, bool escapeNul)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            result[Decode(property.Name, escapeNul)!] = Decode(property.Value.GetString(), escapeNul) ?? string.Empty;
        }

        return result;
    }

    /// <summary>Writes captured content as one JSON object in the record's JSON shape (<c>question</c>, <c>answer</c>,
    /// <c>reasoning</c>, <c>tool_calls</c>: <c>index</c>, <c>id</c>, <c>type</c>, <c>name</c>, <c>arguments</c>; nulls omitted);
    /// strings through <see cref="Encode"/>.</summary>
    public static void WriteContent(Utf8JsonWriter writer, TokenUsageContent content, bool escapeNul)
    {
        void Text(string name, string? value)
        {
            if (value is not null)
            {
                writer.WriteString(name, Encode(value, escapeNul));
            }
        }

        writer.WriteStartObject();
        Text("question", content.Question);
        Text("answer", content.Answer);
        Text("reasoning", content.Reasoning);
        if (content.ToolCalls is { } calls)
        {
            writer.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", call.Index);
                Text("id", call.Id);
                Text("type", call.Type);
                Text("name", call.Name);
                Text("arguments", call.Arguments);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    public static TokenUsageContent? ContentFromJson(string? json, bool escapeNul)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Decode(value.GetString(), escapeNul) : null;

        List<TokenUsageToolCall>? calls = null;
        if (root.TryGetProperty("tool_calls", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            calls = new List<TokenUsageToolCall>(array.GetArrayLength());
            foreach (var call in array.EnumerateArray())
            {
                calls.Add(new TokenUsageToolCall
                {
                    Index = call.TryGetProperty("index", out var index) && index.TryGetInt32(out var i) ? i : 0,
                    Id = Text(call, "id"),
                    Type = Text(call, "type"),
                    Name = Text(call, "name"),
                    Arguments = Text(call, "arguments"),
                });
            }
        }

        return new TokenUsageContent
        {
            Question = Text(root, "question"),
            Answer = Text(root, "answer"),
            Reasoning = Text(root, "reasoning"),
            ToolCalls = calls,
        };
    }

    /// <summary>Units per currency unit of an integer-stored cost (SQLite): 10^12, so every price with up to six decimals per
    /// million tokens times any token count is stored exactly, and the largest single cost is about 9.2 million.</summary>
    public const long CostUnitsPerCurrencyUnit = 1_000_000_000_000;

    /// <summary>Converts a cost to integer units of 10^-12 (rounded to 12 decimals, half to even; clamped to the Int64 range).</summary>
    public static long ToCostUnits(decimal cost)
    {
        var scaled = decimal.Round(cost, 12) * CostUnitsPerCurrencyUnit;
        return scaled >= long.MaxValue ? long.MaxValue : scaled <= long.MinValue ? long.MinValue : (long)scaled;
    }

    /// <summary>Converts integer units of 10^-12 back to a cost (trailing zeros removed, so 1.50 and 1.5 read back alike).</summary>
    public static decimal FromCostUnits(long units) => TrimZeros((decimal)units / CostUnitsPerCurrencyUnit);

    /// <summary>Removes trailing fractional zeros, so an amount reads back with the scale its digits need.</summary>
    public static decimal TrimZeros(decimal value) => value / 1.000000000000000000000000000000000m;
}

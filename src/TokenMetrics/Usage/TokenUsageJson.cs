using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenMetrics;

/// <summary>The one JSON shape of a <see cref="TokenUsageRecord"/> (snake_case, enums as strings, nulls omitted), used by the
/// spool, the webhook and HTTP exporters and stores; source-generated, so trim- and AOT-safe.</summary>
public static class TokenUsageJson
{
    /// <summary>Gets the serializer options.</summary>
    public static JsonSerializerOptions Options => TokenUsageJsonContext.Default.Options;

    /// <summary>Serializes a record to UTF-8 JSON.</summary>
    /// <param name="record">The record.</param>
    /// <returns>The JSON.</returns>
    public static byte[] Serialize(TokenUsageRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, TokenUsageJsonContext.Default.TokenUsageRecord);

    /// <summary>Writes a record.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="record">The record.</param>
    public static void Write(Utf8JsonWriter writer, TokenUsageRecord record) => JsonSerializer.Serialize(writer, record, TokenUsageJsonContext.Default.TokenUsageRecord);

    /// <summary>Reads a record; <see langword="null"/> for JSON <c>null</c>.</summary>
    /// <param name="utf8Json">The JSON.</param>
    /// <returns>The record.</returns>
    /// <exception cref="JsonException">The JSON is not a record.</exception>
    public static TokenUsageRecord? Deserialize(ReadOnlySpan<byte> utf8Json) => JsonSerializer.Deserialize(utf8Json, TokenUsageJsonContext.Default.TokenUsageRecord);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(TokenUsageRecord))]
[JsonSerializable(typeof(List<TokenUsageRecord>))]
[JsonSerializable(typeof(Dictionary<string, long>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class TokenUsageJsonContext : JsonSerializerContext;

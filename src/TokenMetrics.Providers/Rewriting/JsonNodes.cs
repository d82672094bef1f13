using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Writes <see cref="JsonNode"/> trees as compact UTF-8 with non-ASCII text kept raw (no reflection: AOT-safe).</summary>
internal static class JsonNodes
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] ToUtf8(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            node.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a JSON value's text form: a string's content, or the raw JSON of anything else.</summary>
    public static string ArgumentsText(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString() ?? string.Empty : element.GetRawText();
}

using System.Text.Json;
using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>What the metering needs from an OpenAI request body, read with one forward pass and no deserialization.</summary>
internal readonly record struct OpenAIRequestInfo(string? Model, bool Stream, bool IncludeUsage)
{
    private static readonly byte[] IncludeUsageObject = """{"include_usage":true}"""u8.ToArray();

    public static OpenAIRequestInfo Parse(ReadOnlySpan<byte> json)
    {
        string? model = null;
        var stream = false;
        var includeUsage = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = ModelNames.Read(ref reader);
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var depth = reader.CurrentDepth;
                        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                        {
                            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("include_usage"u8))
                            {
                                reader.Read();
                                includeUsage = reader.TokenType == JsonTokenType.True;
                            }
                            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                            {
                                reader.Skip();
                            }
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A malformed body is the vendor's to reject; meter what was read.
        }

        return new OpenAIRequestInfo(model, stream, includeUsage);
    }

    /// <summary>Returns the body with <c>stream_options.include_usage</c> set to true, every other byte unchanged; <see langword="null"/> if it cannot.</summary>
    public static byte[]? InjectIncludeUsage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    // No stream_options: add it before the closing brace.
                    var close = (int)reader.TokenStartIndex;
                    return Splice(json, close, close, ","u8, "\"stream_options\":{\"include_usage\":true}"u8);
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    return null;
                }

                if (!reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    var start = (int)reader.TokenStartIndex;
                    return Splice(json, start, start + 4, default, IncludeUsageObject);
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                var open = (int)reader.TokenStartIndex;
                var depth = reader.CurrentDepth;
                var empty = true;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        continue;
                    }

                    empty = false;
                    if (reader.ValueTextEquals("include_usage"u8))
                    {
                        reader.Read();
                        var start = (int)reader.TokenStartIndex;
                        var end = (int)reader.BytesConsumed;
                        return Splice(json, start, end, default, "true"u8);
                    }

                    reader.Read();
                    reader.Skip();
                }

                return Splice(json, open + 1, open + 1, default, empty ? "\"include_usage\":true"u8 : "\"include_usage\":true,"u8);
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static byte[] Splice(ReadOnlySpan<byte> json, int start, int end, ReadOnlySpan<byte> separator, ReadOnlySpan<byte> insert)
    {
        var result = new byte[json.Length - (end - start) + separator.Length + insert.Length];
        json[..start].CopyTo(result);
        separator.CopyTo(result.AsSpan(start));
        insert.CopyTo(result.AsSpan(start + separator.Length));
        json[end..].CopyTo(result.AsSpan(start + separator.Length + insert.Length));
        return result;
    }
}

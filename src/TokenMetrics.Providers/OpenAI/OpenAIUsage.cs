using System.Text.Json;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Reads an OpenAI <c>usage</c> object: Chat Completions/Completions/Embeddings names (<c>prompt_tokens</c>...) and
/// Responses API names (<c>input_tokens</c>...). OpenAI already counts cached tokens inside input and reasoning inside output.</summary>
internal static class OpenAIUsage
{
    /// <summary>Parses the usage object that starts at the beginning of <paramref name="json"/>; <see langword="null"/> when it is not an object.</summary>
    public static TokenUsage? Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() ? Parse(ref reader) : null;
    }

    /// <summary>Parses the object the reader is positioned on (StartObject); leaves the reader on its EndObject.</summary>
    public static TokenUsage? Parse(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            return null;
        }

        long? input = null, output = null, total = null, cached = null, reasoning = null;
        TokenCountDictionary? inputDetails = null, outputDetails = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                reader.Read();
                input = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                reader.Read();
                output = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("total_tokens"u8))
            {
                reader.Read();
                total = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
            {
                reader.Read();
                inputDetails = ReadDetails(ref reader);
                if (inputDetails is not null && inputDetails.TryGetValue("cached_tokens", out var c))
                {
                    cached = c;
                }
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
            {
                reader.Read();
                outputDetails = ReadDetails(ref reader);
                if (outputDetails is not null && outputDetails.TryGetValue("reasoning_tokens", out var r))
                {
                    reasoning = r;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var usage = new TokenUsage
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = total,
            CachedInputTokenCount = cached,
            ReasoningTokenCount = reasoning,
            InputTokenDetails = inputDetails,
            OutputTokenDetails = outputDetails,
        };
        return usage.IsEmpty ? null : usage;
    }

    // The names OpenAI sends today, so reading them allocates no strings; unknown names are kept too.
    private static readonly string[] KnownDetailNames =
    [
        "cached_tokens", "audio_tokens", "reasoning_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "text_tokens", "image_tokens",
    ];

    private static TokenCountDictionary? ReadDetails(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        TokenCountDictionary? result = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            string? name = null;
            foreach (var known in KnownDetailNames)
            {
                if (reader.ValueTextEquals(known))
                {
                    name = known;
                    break;
                }
            }

            name ??= reader.GetString()!;
            reader.Read();
            if (JsonText.ReadCount(ref reader) is { } value)
            {
                (result ??= new TokenCountDictionary()).Set(name, value);
            }
        }

        return result;
    }
}

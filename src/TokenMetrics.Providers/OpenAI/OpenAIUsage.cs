using System.Text.Json;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Reads an OpenAI <c>usage</c> object: Chat Completions/Completions/Embeddings names (<c>prompt_tokens</c>...) and
/// Responses API names (<c>input_tokens</c>...). OpenAI already counts cached tokens inside input and reasoning inside output.</summary>
/// <remarks>
/// <para>OpenAI-compatible vendors' extras: DeepSeek's top-level <c>prompt_cache_hit_tokens</c>/<c>prompt_cache_miss_tokens</c>
/// (hit + miss = prompt; hit is the cached count), Moonshot/Kimi's top-level <c>cached_tokens</c>, Perplexity's top-level
/// <c>reasoning_tokens</c>; <c>prompt_tokens_details.cached_tokens</c> and <c>completion_tokens_details.reasoning_tokens</c> win when
/// both are present. Any other top-level integer named <c>*_tokens</c> (vLLM, llama.cpp, Perplexity <c>citation_tokens</c>...) is kept
/// in the details: input-side when its name mentions prompt, input or cache, output-side otherwise.</para>
/// </remarks>
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

        long? input = null, output = null, total = null, cached = null, cacheWrite = null, reasoning = null, topCached = null, topReasoning = null;
        TokenCountDictionary? extraInput = null, extraOutput = null;
        TokenCountDictionary? inputDetails = null, outputDetails = null;
        // The details objects are read into this thread's scratch maps and then shared (see TokenCountDictionary.Share).
        var scratchIn = t_scratchIn ??= new TokenCountDictionary();
        var scratchOut = t_scratchOut ??= new TokenCountDictionary();
        scratchIn.Clear();
        scratchOut.Clear();
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
                scratchIn.Clear();
                inputDetails = ReadDetails(ref reader, into: scratchIn) is { Count: > 0 } read ? read : null;
                if (inputDetails is not null && inputDetails.TryGetValue("cached_tokens", out var c))
                {
                    cached = c;
                }

                // Written to the cache (inside the prompt count): Qwen's explicit cache (cache_creation_input_tokens), Azure's cache_write_tokens.
                if (inputDetails is not null && (inputDetails.TryGetValue("cache_creation_input_tokens", out var w) || inputDetails.TryGetValue("cache_write_tokens", out w)))
                {
                    cacheWrite = w;
                }
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
            {
                reader.Read();
                scratchOut.Clear();
                outputDetails = ReadDetails(ref reader, into: scratchOut) is { Count: > 0 } read ? read : null;
                if (outputDetails is not null && outputDetails.TryGetValue("reasoning_tokens", out var r))
                {
                    reasoning = r;
                }
            }
            else if (reader.ValueTextEquals("prompt_cache_hit_tokens"u8) || reader.ValueTextEquals("cached_tokens"u8))
            {
                // DeepSeek (hit of hit + miss) and Moonshot/Kimi (top level): cached input, inside prompt_tokens.
                var name = reader.ValueTextEquals("cached_tokens"u8) ? "cached_tokens" : "prompt_cache_hit_tokens";
                reader.Read();
                if (JsonText.ReadCount(ref reader) is { } hit)
                {
                    topCached = hit;
                    (extraInput ??= new TokenCountDictionary()).Set(name, hit);
                }
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                reader.Read();
                if (JsonText.ReadCount(ref reader) is { } r)
                {
                    topReasoning = r;
                    (extraOutput ??= new TokenCountDictionary()).Set("reasoning_tokens", r);
                }
            }
            else if (reader.ValueSpan.EndsWith("_tokens"u8) && !reader.ValueIsEscaped)
            {
                var name = reader.GetString()!;
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && JsonText.ReadCount(ref reader) is { } extra)
                {
                    var inputSide = name.Contains("prompt", StringComparison.Ordinal) || name.Contains("input", StringComparison.Ordinal) || name.Contains("cache", StringComparison.Ordinal);
                    (inputSide ? extraInput ??= new TokenCountDictionary() : extraOutput ??= new TokenCountDictionary()).Set(name, extra);
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

        cached ??= topCached;
        reasoning ??= topReasoning;
        inputDetails = Combine(inputDetails, extraInput);
        outputDetails = Combine(outputDetails, extraOutput);
        inputDetails = ReferenceEquals(inputDetails, scratchIn) ? TokenCountDictionary.Share(scratchIn) : inputDetails;
        outputDetails = ReferenceEquals(outputDetails, scratchOut) ? TokenCountDictionary.Share(scratchOut) : outputDetails;
        var usage = new TokenUsage
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = total,
            CachedInputTokenCount = cached,
            CacheWriteInputTokenCount = cacheWrite,
            ReasoningTokenCount = reasoning,
            InputTokenDetails = inputDetails,
            OutputTokenDetails = outputDetails,
        };
        return usage.IsEmpty ? null : usage;
    }

    [ThreadStatic]
    private static TokenCountDictionary? t_scratchIn;

    [ThreadStatic]
    private static TokenCountDictionary? t_scratchOut;

    private static TokenCountDictionary? Combine(TokenCountDictionary? details, TokenCountDictionary? extras)
    {
        if (extras is null)
        {
            return details;
        }

        if (details is null)
        {
            return extras;
        }

        foreach (var (key, value) in extras)
        {
            if (!details.ContainsKey(key))
            {
                details.Set(key, value);
            }
        }

        return details;
    }

    // The names OpenAI sends today, so reading them allocates no strings; unknown names are kept too.
    private static readonly string[] KnownDetailNames =
    [
        "cached_tokens", "audio_tokens", "reasoning_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "text_tokens", "image_tokens",
    ];

    /// <summary>Reads a details object: every count by name; a nested object (Qwen's <c>cache_creation</c>:
    /// <c>{"ephemeral_5m_input_tokens": n}</c>) as <c>{name}.{inner}</c>; other values (<c>"cache_type": "ephemeral"</c>) skipped.</summary>
    private static TokenCountDictionary? ReadDetails(ref Utf8JsonReader reader, string? prefix = null, TokenCountDictionary? into = null)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return into;
        }

        var result = into;
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
            name = prefix is null ? name : prefix + name;
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject && prefix is null)
            {
                result = ReadDetails(ref reader, name + ".", result);
            }
            else if (JsonText.ReadCount(ref reader) is { } value)
            {
                (result ??= new TokenCountDictionary()).Set(name, value);
            }
        }

        return result;
    }
}

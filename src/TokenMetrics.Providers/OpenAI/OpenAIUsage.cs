using System.Linq;
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
                if (inputDetails is not null)
                {
                    cached = Cached(inputDetails) ?? cached;
                    cacheWrite = CacheWrite(inputDetails) ?? cacheWrite;
                }
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
            {
                reader.Read();
                scratchOut.Clear();
                outputDetails = ReadDetails(ref reader, into: scratchOut) is { Count: > 0 } read ? read : null;
                if (outputDetails is not null)
                {
                    reasoning = Reasoning(outputDetails) ?? reasoning;
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
        return Build(input, output, total, cached, cacheWrite, reasoning, inputDetails, outputDetails);
    }

    /// <summary>Reads the usage object OpenAI and most compatible vendors send (<paramref name="json"/> is exactly that object):
    /// the input, output and total counts and the two details objects of plain counts, with a <see cref="JsonCursor"/> instead of a
    /// tokenizing pass. The same answer <see cref="Parse(ReadOnlySpan{byte})"/> gives.</summary>
    /// <param name="json">The object, nothing before or after it but whitespace.</param>
    /// <param name="usage">The usage, <see langword="null"/> when it has no count.</param>
    /// <returns><see langword="false"/> on anything else (another member, a repeated one, escapes, a count that is not a plain
    /// integer, nested details): the caller then takes <see cref="Parse(ReadOnlySpan{byte})"/>.</returns>
    public static bool TryParsePlain(ReadOnlySpan<byte> json, out TokenUsage? usage)
    {
        usage = null;
        var cursor = new JsonCursor(json);
        if (!cursor.Take((byte)'{'))
        {
            return false;
        }

        long? input = null, output = null, total = null;
        var scratchIn = t_scratchIn ??= new TokenCountDictionary();
        var scratchOut = t_scratchOut ??= new TokenCountDictionary();
        scratchIn.Clear();
        scratchOut.Clear();
        var seen = 0;
        if (!cursor.Take((byte)'}'))
        {
            do
            {
                if (!cursor.TryReadName(out var name))
                {
                    return false;
                }

                var field = PlainField(name);
                if (field < 0 || (seen & (1 << field)) != 0)
                {
                    return false;
                }

                seen |= 1 << field;
                if (field >= 3)
                {
                    if (!TryReadPlainDetails(ref cursor, field == 3 ? scratchIn : scratchOut))
                    {
                        return false;
                    }
                }
                else if (!cursor.TryReadCount(out var count))
                {
                    return false;
                }
                else if (field == 0)
                {
                    input = count;
                }
                else if (field == 1)
                {
                    output = count;
                }
                else
                {
                    total = count;
                }
            }
            while (cursor.Take((byte)','));

            if (!cursor.Take((byte)'}'))
            {
                return false;
            }
        }

        if (!cursor.AtEnd())
        {
            return false;
        }

        usage = Build(input, output, total, Cached(scratchIn), CacheWrite(scratchIn), Reasoning(scratchOut), TokenCountDictionary.Share(scratchIn), TokenCountDictionary.Share(scratchOut));
        return true;
    }

    /// <summary>The cached input count an input-side details object reports.</summary>
    private static long? Cached(TokenCountDictionary details) => details.TryGetValue("cached_tokens", out var c) ? c : null;

    /// <summary>The input written to the cache (inside the prompt count): Qwen's explicit cache (<c>cache_creation_input_tokens</c>),
    /// Azure's <c>cache_write_tokens</c>.</summary>
    private static long? CacheWrite(TokenCountDictionary details) =>
        details.TryGetValue("cache_creation_input_tokens", out var w) || details.TryGetValue("cache_write_tokens", out w) ? w : null;

    /// <summary>The reasoning count an output-side details object reports.</summary>
    private static long? Reasoning(TokenCountDictionary details) => details.TryGetValue("reasoning_tokens", out var r) ? r : null;

    private static TokenUsage? Build(long? input, long? output, long? total, long? cached, long? cacheWrite, long? reasoning, TokenCountDictionary? inputDetails, TokenCountDictionary? outputDetails)
    {
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

    /// <summary>0 input, 1 output, 2 total, 3 input details, 4 output details; -1 for every other name.</summary>
    private static int PlainField(ReadOnlySpan<byte> name) => name.Length switch
    {
        12 when name.SequenceEqual("input_tokens"u8) || name.SequenceEqual("total_tokens"u8) => name[0] == (byte)'i' ? 0 : 2,
        13 when name.SequenceEqual("prompt_tokens"u8) => 0,
        13 when name.SequenceEqual("output_tokens"u8) => 1,
        17 when name.SequenceEqual("completion_tokens"u8) => 1,
        20 when name.SequenceEqual("input_tokens_details"u8) => 3,
        21 when name.SequenceEqual("prompt_tokens_details"u8) => 3,
        21 when name.SequenceEqual("output_tokens_details"u8) => 4,
        25 when name.SequenceEqual("completion_tokens_details"u8) => 4,
        _ => -1,
    };

    /// <summary>A details object of plain counts only (what ReadDetails reads into the same map, for that input).</summary>
    private static bool TryReadPlainDetails(ref JsonCursor cursor, TokenCountDictionary into)
    {
        if (!cursor.Take((byte)'{'))
        {
            return false;
        }

        if (cursor.Take((byte)'}'))
        {
            return true;
        }

        do
        {
            if (!cursor.TryReadName(out var utf8) || !cursor.TryReadCount(out var count) || DetailName(utf8) is not { } name)
            {
                return false;
            }

            into.Set(name, count);
        }
        while (cursor.Take((byte)','));

        return cursor.Take((byte)'}');
    }

    /// <summary>The shared string of a known detail name, a new one for another valid name, <see langword="null"/> for invalid UTF-8.</summary>
    private static string? DetailName(ReadOnlySpan<byte> utf8)
    {
        foreach (var (bytes, name) in KnownDetailNames)
        {
            if (utf8.SequenceEqual(bytes))
            {
                return name;
            }
        }

        return JsonText.DecodeValidUtf8(utf8);
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
    // UTF-8 beside each name: the reader compares bytes, with no transcoding per comparison.
    private static readonly (byte[] Utf8, string Name)[] KnownDetailNames =
        [.. new[] { "cached_tokens", "audio_tokens", "reasoning_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "text_tokens", "image_tokens" }
            .Select(static name => (System.Text.Encoding.UTF8.GetBytes(name), name))];

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
            foreach (var (utf8, known) in KnownDetailNames)
            {
                if (reader.ValueTextEquals(utf8))
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

using System.Runtime.CompilerServices;
using System.Text.Json;

namespace TokenMetrics.Providers.Gemini;

/// <summary>The raw counts of a Gemini <c>usageMetadata</c> object, merged across stream chunks by "last value per field".</summary>
/// <remarks>
/// <para>Gemini repeats running totals in every chunk (cumulative), so a later value replaces an earlier one and nothing is ever
/// summed (summing is the dotnet/extensions#7409 over-count). A field a chunk leaves out keeps its earlier value.</para>
/// <para>Normalisation: <c>candidatesTokenCount</c> excludes thoughts while <c>totalTokenCount</c> includes them, so output =
/// candidates + thoughts (reasoning inside output); input = prompt + tool-use prompt (both billed as input);
/// <c>cachedContentTokenCount</c> is already inside <c>promptTokenCount</c>. The raw figures stay in the detail maps.</para>
/// </remarks>
internal struct GeminiUsage
{
    public long? Prompt;
    public long? Candidates;
    public long? Total;
    public long? Cached;
    public long? Thoughts;
    public long? ToolUsePrompt;
    public TokenCountDictionary? PromptModalities;
    public TokenCountDictionary? CandidateModalities;

    public readonly bool IsEmpty => Prompt is null && Candidates is null && Total is null && Cached is null && Thoughts is null && ToolUsePrompt is null;

    /// <summary>Reads the <c>usageMetadata</c> object the reader is on (StartObject); leaves it on the matching EndObject.</summary>
    public static GeminiUsage Read(ref Utf8JsonReader reader) => Read(ref reader, default);

    /// <summary>Reads the <c>usageMetadata</c> object the reader is on (StartObject); leaves it on the matching EndObject. Detail maps
    /// equal to <paramref name="previous"/>'s are that same instance (a stream repeats them in every chunk: no allocation per chunk).</summary>
    public static GeminiUsage Read(ref Utf8JsonReader reader, in GeminiUsage previous)
    {
        var usage = default(GeminiUsage);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return usage;
        }

        var promptModalities = new ModalityMap(previous.PromptModalities);
        var candidateModalities = new ModalityMap(previous.CandidateModalities);

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("promptTokenCount"u8))
            {
                reader.Read();
                usage.Prompt = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("candidatesTokenCount"u8) || reader.ValueTextEquals("responseTokenCount"u8))
            {
                reader.Read();
                usage.Candidates = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("totalTokenCount"u8))
            {
                reader.Read();
                usage.Total = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cachedContentTokenCount"u8))
            {
                reader.Read();
                usage.Cached = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("thoughtsTokenCount"u8))
            {
                reader.Read();
                usage.Thoughts = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("toolUsePromptTokenCount"u8))
            {
                reader.Read();
                usage.ToolUsePrompt = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("promptTokensDetails"u8))
            {
                reader.Read();
                ReadModalities(ref reader, "prompt.", ref promptModalities);
            }
            else if (reader.ValueTextEquals("cacheTokensDetails"u8))
            {
                reader.Read();
                ReadModalities(ref reader, "cache.", ref promptModalities);
            }
            else if (reader.ValueTextEquals("toolUsePromptTokensDetails"u8))
            {
                reader.Read();
                ReadModalities(ref reader, "tool_use.", ref promptModalities);
            }
            else if (reader.ValueTextEquals("candidatesTokensDetails"u8) || reader.ValueTextEquals("responseTokensDetails"u8))
            {
                reader.Read();
                ReadModalities(ref reader, "candidates.", ref candidateModalities);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        usage.PromptModalities = promptModalities.Finish();
        usage.CandidateModalities = candidateModalities.Finish();
        return usage;
    }

    /// <summary>Reads a plain <c>usageMetadata</c> object (what Gemini sends) without a <see cref="Utf8JsonReader"/>, to exactly what
    /// <see cref="Read(ref Utf8JsonReader, in GeminiUsage)"/> gives; answers <see langword="false"/> (having read nothing that counts)
    /// on anything else: escapes, fractions, counts as strings or null, nested values it does not know, unknown modalities.</summary>
    /// <param name="cursor">On the object's opening brace; after it on success.</param>
    /// <param name="previous">The merged usage so far, whose detail maps are reused when equal.</param>
    /// <param name="usage">The counts read.</param>
    public static bool TryReadPlain(ref JsonCursor cursor, in GeminiUsage previous, out GeminiUsage usage)
    {
        usage = default;
        if (!cursor.Take((byte)'{'))
        {
            return false;
        }

        var promptModalities = new ModalityMap(previous.PromptModalities);
        var candidateModalities = new ModalityMap(previous.CandidateModalities);
        if (!cursor.Take((byte)'}'))
        {
            do
            {
                if (!cursor.TryReadName(out var name))
                {
                    return false;
                }

                if (cursor.Peek() == (byte)'[')
                {
                    var ok = name.SequenceEqual("promptTokensDetails"u8) ? TryReadPlainModalities(ref cursor, "prompt.", ref promptModalities)
                        : name.SequenceEqual("cacheTokensDetails"u8) ? TryReadPlainModalities(ref cursor, "cache.", ref promptModalities)
                        : name.SequenceEqual("toolUsePromptTokensDetails"u8) ? TryReadPlainModalities(ref cursor, "tool_use.", ref promptModalities)
                        : (name.SequenceEqual("candidatesTokensDetails"u8) || name.SequenceEqual("responseTokensDetails"u8))
                            && TryReadPlainModalities(ref cursor, "candidates.", ref candidateModalities);
                    if (!ok)
                    {
                        return false;
                    }

                    continue;
                }

                ref var field = ref CountField(ref usage, name);
                if (Unsafe.IsNullRef(ref field))
                {
                    if (IsDetailsName(name) || !cursor.TrySkipScalar())
                    {
                        return false;
                    }
                }
                else if (cursor.TryReadCount(out var count))
                {
                    field = count;
                }
                else
                {
                    return false;
                }
            }
            while (cursor.Take((byte)','));

            if (!cursor.Take((byte)'}'))
            {
                return false;
            }
        }

        usage.PromptModalities = promptModalities.Finish();
        usage.CandidateModalities = candidateModalities.Finish();
        return true;
    }

    /// <summary>Returns this usage with every field <paramref name="newer"/> reports replaced (last value per field wins).</summary>
    public readonly GeminiUsage MergeLatest(in GeminiUsage newer) => new()
    {
        Prompt = newer.Prompt ?? Prompt,
        Candidates = newer.Candidates ?? Candidates,
        Total = newer.Total ?? Total,
        Cached = newer.Cached ?? Cached,
        Thoughts = newer.Thoughts ?? Thoughts,
        ToolUsePrompt = newer.ToolUsePrompt ?? ToolUsePrompt,
        PromptModalities = newer.PromptModalities ?? PromptModalities,
        CandidateModalities = newer.CandidateModalities ?? CandidateModalities,
    };

    /// <summary>The normalised usage (cached inside input, reasoning inside output), raw counts in the details.</summary>
    public readonly TokenUsage? ToTokenUsage()
    {
        if (IsEmpty)
        {
            return null;
        }

        var input = new TokenCountDictionary();
        Set(input, "promptTokenCount", Prompt);
        Set(input, "cachedContentTokenCount", Cached);
        Set(input, "toolUsePromptTokenCount", ToolUsePrompt);
        Append(input, PromptModalities);
        var output = new TokenCountDictionary();
        Set(output, "candidatesTokenCount", Candidates);
        Set(output, "thoughtsTokenCount", Thoughts);
        Append(output, CandidateModalities);
        return new TokenUsage
        {
            InputTokenCount = Prompt is null && ToolUsePrompt is null ? null : (Prompt ?? 0) + (ToolUsePrompt ?? 0),
            OutputTokenCount = Candidates is null && Thoughts is null ? null : (Candidates ?? 0) + (Thoughts ?? 0),
            TotalTokenCount = Total,
            CachedInputTokenCount = Cached,
            ReasoningTokenCount = Thoughts,
            InputTokenDetails = input.Count > 0 ? input : null,
            OutputTokenDetails = output.Count > 0 ? output : null,
        };
    }

    private static void Set(TokenCountDictionary target, string name, long? value)
    {
        if (value is { } v)
        {
            target.Set(name, v);
        }
    }

    private static void Append(TokenCountDictionary target, TokenCountDictionary? source)
    {
        if (source is null)
        {
            return;
        }

        foreach (var (key, value) in source)
        {
            target.Set(key, value);
        }
    }

    /// <summary>The count field a member name sets, as <see cref="Read(ref Utf8JsonReader, in GeminiUsage)"/> maps it; a null
    /// reference for other names.</summary>
    private static ref long? CountField(ref GeminiUsage usage, ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual("promptTokenCount"u8))
        {
            return ref usage.Prompt;
        }

        if (name.SequenceEqual("candidatesTokenCount"u8) || name.SequenceEqual("responseTokenCount"u8))
        {
            return ref usage.Candidates;
        }

        if (name.SequenceEqual("totalTokenCount"u8))
        {
            return ref usage.Total;
        }

        if (name.SequenceEqual("cachedContentTokenCount"u8))
        {
            return ref usage.Cached;
        }

        if (name.SequenceEqual("thoughtsTokenCount"u8))
        {
            return ref usage.Thoughts;
        }

        if (name.SequenceEqual("toolUsePromptTokenCount"u8))
        {
            return ref usage.ToolUsePrompt;
        }

        return ref Unsafe.NullRef<long?>();
    }

    private static bool IsDetailsName(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("promptTokensDetails"u8) || name.SequenceEqual("cacheTokensDetails"u8) || name.SequenceEqual("toolUsePromptTokensDetails"u8)
        || name.SequenceEqual("candidatesTokensDetails"u8) || name.SequenceEqual("responseTokensDetails"u8);

    /// <summary>The plain twin of <see cref="ReadModalities"/>: objects of scalar members with a known modality name and a plain count.</summary>
    private static bool TryReadPlainModalities(ref JsonCursor cursor, string prefix, ref ModalityMap target)
    {
        if (!cursor.Take((byte)'['))
        {
            return false;
        }

        if (cursor.Take((byte)']'))
        {
            return true;
        }

        do
        {
            if (!cursor.Take((byte)'{'))
            {
                return false;
            }

            string? modality = null;
            long? count = null;
            if (!cursor.Take((byte)'}'))
            {
                do
                {
                    if (!cursor.TryReadName(out var name))
                    {
                        return false;
                    }

                    if (name.SequenceEqual("modality"u8))
                    {
                        if (!cursor.TryReadPlainString(out var value) || KnownModality(value) is not { } known)
                        {
                            return false;
                        }

                        modality = known;
                    }
                    else if (name.SequenceEqual("tokenCount"u8))
                    {
                        if (!cursor.TryReadCount(out var n))
                        {
                            return false;
                        }

                        count = n;
                    }
                    else if (!cursor.TrySkipScalar())
                    {
                        return false;
                    }
                }
                while (cursor.Take((byte)','));

                if (!cursor.Take((byte)'}'))
                {
                    return false;
                }
            }

            if (modality is not null && count is { } c)
            {
                target.Set(DetailName(prefix, modality), c);
            }
        }
        while (cursor.Take((byte)','));

        return cursor.Take((byte)']');
    }

    private static string? KnownModality(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("TEXT"u8) ? "TEXT"
        : value.SequenceEqual("IMAGE"u8) ? "IMAGE"
        : value.SequenceEqual("AUDIO"u8) ? "AUDIO"
        : value.SequenceEqual("VIDEO"u8) ? "VIDEO"
        : value.SequenceEqual("DOCUMENT"u8) ? "DOCUMENT"
        : null;

    /// <summary>Reads <c>[{"modality":"TEXT","tokenCount":n}...]</c> into <c>{prefix}{modality}</c> entries.</summary>
    private static void ReadModalities(ref Utf8JsonReader reader, string prefix, ref ModalityMap target)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? modality = null;
            long? count = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("modality"u8))
                {
                    reader.Read();
                    modality = reader.TokenType == JsonTokenType.String ? ModalityName(ref reader) : null;
                }
                else if (reader.ValueTextEquals("tokenCount"u8))
                {
                    reader.Read();
                    count = JsonText.ReadCount(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (modality is not null && count is { } c)
            {
                target.Set(DetailName(prefix, modality), c);
            }
        }
    }

    /// <summary>Builds a detail map, or, while its entries are those of the previous chunk's map in the same order, reuses that
    /// map: the result is always what setting the entries one by one into a new map gives.</summary>
    private struct ModalityMap(TokenCountDictionary? previous)
    {
        private TokenCountDictionary? _built;
        private int _matched;

        public void Set(string key, long value)
        {
            if (_built is null && previous is not null && _matched < previous.Count)
            {
                var item = previous.ItemAt(_matched);
                if (item.Value == value && string.Equals(item.Key, key, StringComparison.Ordinal))
                {
                    _matched++;
                    return;
                }
            }

            (_built ??= CopyMatched()).Set(key, value);
        }

        public readonly TokenCountDictionary? Finish() =>
            _built ?? (_matched == 0 ? null : _matched == previous!.Count ? previous : CopyMatched());

        private readonly TokenCountDictionary CopyMatched()
        {
            var map = new TokenCountDictionary();
            for (var i = 0; i < _matched; i++)
            {
                var item = previous!.ItemAt(i);
                map.Set(item.Key, item.Value);
            }

            return map;
        }
    }

    // Every chunk of a stream repeats the same few names: build "prompt.TEXT" and friends once, not per chunk. Only the known
    // modalities are cached, so a hostile body cannot grow the cache.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Prefix, string Modality), string> DetailNames = new();

    private static string DetailName(string prefix, string modality) =>
        modality is "TEXT" or "IMAGE" or "AUDIO" or "VIDEO" or "DOCUMENT"
            ? DetailNames.GetOrAdd((prefix, modality), static key => key.Prefix + key.Modality)
            : prefix + modality;

    private static string ModalityName(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("TEXT"u8) ? "TEXT"
        : reader.ValueTextEquals("IMAGE"u8) ? "IMAGE"
        : reader.ValueTextEquals("AUDIO"u8) ? "AUDIO"
        : reader.ValueTextEquals("VIDEO"u8) ? "VIDEO"
        : reader.ValueTextEquals("DOCUMENT"u8) ? "DOCUMENT"
        : reader.GetString() ?? "UNSPECIFIED";
}

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
    /// <param name="slots">Receives where each count was read (offsets from where the cursor started), in reading order.</param>
    /// <param name="slotCount">The number of slots, or -1 when there were more than <paramref name="slots"/> holds.</param>
    public static bool TryReadPlain(ref JsonCursor cursor, in GeminiUsage previous, out GeminiUsage usage, scoped Span<GeminiUsageSlot> slots, out int slotCount)
    {
        usage = default;
        slotCount = 0;
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

                var details = DetailsKind(name);
                if (details >= 0)
                {
                    // Prompt-side maps (prompt, cache, tool use) share one map, as in Read.
                    if (!(details < 3
                        ? TryReadPlainModalities(ref cursor, details, ref promptModalities, slots, ref slotCount)
                        : TryReadPlainModalities(ref cursor, details, ref candidateModalities, slots, ref slotCount)))
                    {
                        return false;
                    }

                    continue;
                }

                var field = CountField(name);
                if (field < 0)
                {
                    if (!cursor.TrySkipScalar())
                    {
                        return false;
                    }
                }
                else if (cursor.TryReadCount(out var count))
                {
                    Field(ref usage, field) = count;
                    AddSlot(slots, ref slotCount, new GeminiUsageSlot(cursor.NumberStart, cursor.Position - cursor.NumberStart, field));
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

    /// <summary>Reads the counts of a <c>usageMetadata</c> object whose bytes differ from those <paramref name="slots"/> were taken
    /// from (by <see cref="TryReadPlain"/>) in digits only: the same members in the same places, so the counts are read where
    /// the slots say and set in the same order, giving what reading the object gives.</summary>
    /// <param name="bytes">The bytes, from the same start as the slots' offsets.</param>
    /// <param name="slots">The slots.</param>
    /// <param name="previous">The merged usage so far.</param>
    /// <param name="usage">The counts.</param>
    /// <returns><see langword="false"/> when a number is not a plain count (a leading zero).</returns>
    public static bool TryReadSlots(ReadOnlySpan<byte> bytes, ReadOnlySpan<GeminiUsageSlot> slots, in GeminiUsage previous, out GeminiUsage usage)
    {
        usage = default;
        var promptModalities = new ModalityMap(previous.PromptModalities);
        var candidateModalities = new ModalityMap(previous.CandidateModalities);
        foreach (var slot in slots)
        {
            var digits = bytes.Slice(slot.Offset, slot.Length);
            if (digits.Length > 1 && digits[0] == (byte)'0')
            {
                return false;
            }

            var value = Digits(digits);
            if (slot.Code < DetailCode)
            {
                Field(ref usage, slot.Code) = value;
            }
            else
            {
                // A detail: its list (prompt side 0-2, candidates 3) and modality, as PlainDetailNames holds them.
                var kind = (slot.Code - DetailCode) / 5;
                var name = PlainDetailNames[kind][(slot.Code - DetailCode) % 5];
                if (kind < 3)
                {
                    promptModalities.Set(name, value);
                }
                else
                {
                    candidateModalities.Set(name, value);
                }
            }
        }

        usage.PromptModalities = promptModalities.Finish();
        usage.CandidateModalities = candidateModalities.Finish();
        return true;
    }

    /// <summary>Whether a slot holds a count field (set by <see cref="SetCount"/>), not a detail entry.</summary>
    /// <param name="code">The slot's code.</param>
    /// <returns><see langword="true"/> for a count field.</returns>
    public static bool IsCountField(int code) => code < DetailCode;

    /// <summary>Sets the count field a slot reads (see <see cref="IsCountField"/>) to its plain digits, as <see cref="TryReadSlots"/>
    /// and a merge would.</summary>
    /// <param name="usage">The merged usage.</param>
    /// <param name="code">The slot's code, a count field.</param>
    /// <param name="digits">The count's digits (checked by the caller).</param>
    public static void SetCount(ref GeminiUsage usage, int code, ReadOnlySpan<byte> digits) => Field(ref usage, code) = Digits(digits);

    /// <summary>The value of a slot's digits (plain, checked by the caller).</summary>
    private static long Digits(ReadOnlySpan<byte> digits)
    {
        long value = 0;
        foreach (var d in digits)
        {
            value = (value * 10) + (d - '0');
        }

        return value;
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

    // Slot codes: 0-5 a count field (see Field), DetailCode + list * 5 + modality a detail entry.
    private const int DetailCode = 8;

    /// <summary>The count field a member name sets, as <see cref="Read(ref Utf8JsonReader, in GeminiUsage)"/> maps it (an index for
    /// <see cref="Field"/>), or -1 for other names.</summary>
    private static int CountField(ReadOnlySpan<byte> name) => name.Length switch
    {
        15 when name.SequenceEqual("totalTokenCount"u8) => 2,
        16 when name.SequenceEqual("promptTokenCount"u8) => 0,
        18 when name.SequenceEqual("responseTokenCount"u8) => 1,
        20 when name.SequenceEqual("candidatesTokenCount"u8) => 1,
        18 when name.SequenceEqual("thoughtsTokenCount"u8) => 4,
        23 when name.SequenceEqual("cachedContentTokenCount"u8) => 3,
        23 when name.SequenceEqual("toolUsePromptTokenCount"u8) => 5,
        _ => -1,
    };

    private static ref long? Field(ref GeminiUsage usage, int field)
    {
        switch (field)
        {
            case 0: return ref usage.Prompt;
            case 1: return ref usage.Candidates;
            case 2: return ref usage.Total;
            case 3: return ref usage.Cached;
            case 4: return ref usage.Thoughts;
            default: return ref usage.ToolUsePrompt;
        }
    }

    private static void AddSlot(Span<GeminiUsageSlot> slots, ref int count, GeminiUsageSlot slot)
    {
        if (count >= 0 && count < slots.Length)
        {
            slots[count++] = slot;
        }
        else
        {
            count = -1;
        }
    }

    /// <summary>Which detail list a member name is (an index into <see cref="PlainDetailNames"/>), or -1.</summary>
    private static int DetailsKind(ReadOnlySpan<byte> name) => name.Length switch
    {
        19 when name.SequenceEqual("promptTokensDetails"u8) => 0,
        18 when name.SequenceEqual("cacheTokensDetails"u8) => 1,
        26 when name.SequenceEqual("toolUsePromptTokensDetails"u8) => 2,
        23 when name.SequenceEqual("candidatesTokensDetails"u8) => 3,
        21 when name.SequenceEqual("responseTokensDetails"u8) => 3,
        _ => -1,
    };

    // The detail names of the known modalities, by list (as in DetailsKind) and modality (as in KnownModality): no lookup per chunk.
    private static readonly string[][] PlainDetailNames =
    [
        ["prompt.TEXT", "prompt.IMAGE", "prompt.AUDIO", "prompt.VIDEO", "prompt.DOCUMENT"],
        ["cache.TEXT", "cache.IMAGE", "cache.AUDIO", "cache.VIDEO", "cache.DOCUMENT"],
        ["tool_use.TEXT", "tool_use.IMAGE", "tool_use.AUDIO", "tool_use.VIDEO", "tool_use.DOCUMENT"],
        ["candidates.TEXT", "candidates.IMAGE", "candidates.AUDIO", "candidates.VIDEO", "candidates.DOCUMENT"],
    ];

    /// <summary>The plain twin of <see cref="ReadModalities"/>: objects of scalar members with a known modality name and a plain count.</summary>
    private static bool TryReadPlainModalities(ref JsonCursor cursor, int kind, ref ModalityMap target, scoped Span<GeminiUsageSlot> slots, ref int slotCount)
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

            var modality = -1;
            long? count = null;
            var countStart = 0;
            var countLength = 0;
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
                        if (!cursor.TryReadPlainString(out var value) || (modality = KnownModality(value)) < 0)
                        {
                            return false;
                        }
                    }
                    else if (name.SequenceEqual("tokenCount"u8))
                    {
                        if (!cursor.TryReadCount(out var n))
                        {
                            return false;
                        }

                        count = n;
                        countStart = cursor.NumberStart;
                        countLength = cursor.Position - cursor.NumberStart;
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

            if (modality >= 0 && count is { } c)
            {
                target.Set(PlainDetailNames[kind][modality], c);
                AddSlot(slots, ref slotCount, new GeminiUsageSlot(countStart, countLength, DetailCode + (kind * 5) + modality));
            }
        }
        while (cursor.Take((byte)','));

        return cursor.Take((byte)']');
    }

    private static int KnownModality(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("TEXT"u8) ? 0
        : value.SequenceEqual("IMAGE"u8) ? 1
        : value.SequenceEqual("AUDIO"u8) ? 2
        : value.SequenceEqual("VIDEO"u8) ? 3
        : value.SequenceEqual("DOCUMENT"u8) ? 4
        : -1;

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

/// <summary>Where <see cref="GeminiUsage.TryReadPlain"/> read a count: its digits, and what it sets (a count field, or a detail
/// list and modality), so the next chunk's count can be read at the same place. Unmanaged: kept in a pooled byte buffer.</summary>
internal readonly record struct GeminiUsageSlot(int Offset, int Length, int Code);

using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Reads Gemini / Vertex AI <c>generateContent</c> bodies and <c>streamGenerateContent</c> streams, both as server-sent
/// events (<c>alt=sse</c>) and as the incrementally written JSON array (<c>[{...},\r\n{...}]</c>).</summary>
/// <remarks>
/// <para>Every chunk carries a cumulative <c>usageMetadata</c>: the last value per field wins (see <see cref="GeminiUsage"/>).</para>
/// <para>A stream is complete once a candidate has a <c>finishReason</c> (or the prompt was blocked: <c>promptFeedback.blockReason</c>);
/// a non-streamed body is complete once the whole object was read. An <c>error</c> object (in a body or as a stream element)
/// sets <see cref="TokenUsageResponseReader.ErrorType"/> to its <c>status</c> (for example <c>RESOURCE_EXHAUSTED</c>).</para>
/// </remarks>
internal class GeminiResponseReader : JsonDocumentReader
{
    private readonly bool _streaming;
    private GeminiUsage _usage;

    // The fast path's last usage object (from the member name to the end of the chunk), and after it in the same pooled
    // buffer where its counts were.
    private const int MaxSlots = 16;
    private byte[]? _template;
    private int _templateLength;
    private int _slotCount;

    // Whether _usage holds the template's counts (the template is the last chunk merged, and no two slots set one field): then
    // only the counts that changed are read.
    private bool _templateCurrent;
    private bool _slotFieldsUnique;

    public GeminiResponseReader(DocumentFraming framing, int maxDocumentBytes, bool streaming)
        : base(framing, maxDocumentBytes)
    {
        _streaming = streaming;
    }

    /// <summary>Gets the last <c>finishReason</c> seen.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>Gets or sets a value indicating whether stream chunks may take the search-based path (<see cref="TryReadUsageChunk"/>);
    /// tests turn it off to compare with the full parse.</summary>
    internal bool UsageChunkFastPath { get; init; } = true;

    /// <summary>Gets or sets a value indicating whether a chunk that repeats the last one's usage object with some counts grown
    /// reads only those counts (<see cref="TryReadChangedCounts"/>); tests turn it off to compare with the slot path.</summary>
    internal bool ChangedCountsOnly { get; init; } = true;

    /// <summary>Gets the number of chunks <see cref="TryReadChangedCounts"/> read (tests check that it ran).</summary>
    internal int ChangedCountChunks { get; private set; }

    /// <summary>Gets the number of chunks read by the search-based path.</summary>
    internal int FastChunks { get; private set; }

    /// <summary>Gets the merged raw usage so far.</summary>
    internal GeminiUsage RawUsage => _usage;

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        if (_streaming && UsageChunkFastPath && TryReadUsageChunk(json))
        {
            FastChunks++;
            return;
        }

        _templateCurrent = false;

        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var blocked = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usageMetadata"u8))
            {
                reader.Read();
                var chunk = GeminiUsage.Read(ref reader, _usage);
                _usage = _usage.MergeLatest(chunk);
            }
            else if (reader.ValueTextEquals("candidates"u8))
            {
                reader.Read();
                ReadCandidates(ref reader);
            }
            else if (reader.ValueTextEquals("modelVersion"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && ResponseModel is null)
                {
                    ResponseModel = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("responseId"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && ResponseId is null)
                {
                    ResponseId = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("promptFeedback"u8))
            {
                reader.Read();
                blocked |= HasBlockReason(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ErrorType = ReadErrorStatus(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0)
        {
            throw new JsonException("incomplete");
        }

        if (!_streaming || blocked)
        {
            Completed = true;
        }
    }

    protected override void OnEnd() => Usage = _usage.ToTokenUsage();

    public override void Dispose()
    {
        if (_template is not null)
        {
            ArrayPool<byte>.Shared.Return(_template);
            _template = null;
            _templateLength = 0;
        }

        base.Dispose();
    }

    private static ReadOnlySpan<byte> UsageName => "\"usageMetadata\""u8;

    /// <summary>Where the slots start in the template buffer: a kept usage object is at most this long.</summary>
    private const int SlotsAt = 1024;

    private Span<GeminiUsageSlot> Slots() => MemoryMarshal.Cast<byte, GeminiUsageSlot>(_template.AsSpan(SlotsAt, MaxSlots * Unsafe.SizeOf<GeminiUsageSlot>()));

    /// <summary>The per-chunk fast path: a chunk whose only member that counts is its <c>usageMetadata</c> is read by searching
    /// for that member and reading it and the members after it, instead of parsing the whole chunk (mostly answer text).</summary>
    /// <remarks>
    /// <para>It gives what the full parse gives, or declines (<see langword="false"/>, nothing changed) and the full parse runs:</para>
    /// <list type="bullet">
    /// <item>Only once usage was seen: before, the full parse keeps the answer text and reads the model and id (first chunks).</item>
    /// <item>The member is found at a quote that delimits a string (not an escaped quote inside text), is the only one, and
    /// only plain scalar members and the closing brace of the chunk follow its plain object: so it is a top-level member.</item>
    /// <item>No <c>"finishReason"</c>, <c>"promptFeedback"</c> or <c>"error"</c> string before it (the last chunk and errors take
    /// the full parse), nor <c>"modelVersion"</c> or <c>"responseId"</c> while those are still unknown, nor a <c>\u</c> escape
    /// that may spell a letter of such a name; nor, after it, a member of those names.</item>
    /// </list>
    /// <para>Gemini repeats the same usage object in every chunk with growing counts: when the bytes from the member to the end
    /// differ from the last chunk read this way in digits only (one vectorised compare), the counts are read where they were
    /// (<see cref="GeminiUsage.TryReadSlots"/>) instead of reading the object again.</para>
    /// <para>What it does not do is check that the text before the member is valid JSON: a malformed chunk that ends with a well
    /// formed usage object is read, not counted in <see cref="JsonDocumentReader.MalformedDocuments"/>.</para>
    /// </remarks>
    private bool TryReadUsageChunk(ReadOnlySpan<byte> json)
    {
        if (_usage.IsEmpty)
        {
            return false;
        }

        // Usually only a count or two grew since the last chunk: those are read, the rest is already in _usage.
        var templateAt = json.Length - _templateLength;
        if (ChangedCountsOnly && _templateCurrent && _templateLength > 0 && templateAt > 0 && TryReadChangedCounts(json, templateAt))
        {
            ChangedCountChunks++;
            return true;
        }

        // The same usage object as the last chunk's, counts aside: read the counts where they were.
        if (_templateLength > 0 && templateAt > 0
            && JsonText.EqualExceptDigits(json[templateAt..], _template.AsSpan(0, _templateLength))
            && JsonText.IsDelimiterQuote(json, templateAt)
            && !PrefixMayMatter(json[..templateAt])
            && GeminiUsage.TryReadSlots(json[(templateAt + UsageName.Length)..], Slots()[.._slotCount], _usage, out var same))
        {
            _usage = _usage.MergeLatest(same);
            json[templateAt..].CopyTo(_template);
            _templateCurrent = _slotFieldsUnique;
            return true;
        }

        var at = JsonText.LastIndexOfQuoted(json, UsageName);
        if (at < 0 || PrefixMayMatter(json[..at]))
        {
            return false;
        }

        // The object itself and the members after it are read, so their names are checked as they are read. The slots are
        // rewritten as it is read: the kept object no longer matches them until it is replaced below.
        _templateLength = 0;
        Span<GeminiUsageSlot> slots = stackalloc GeminiUsageSlot[MaxSlots];
        var cursor = new JsonCursor(json[(at + UsageName.Length)..]);
        if (!cursor.Take((byte)':') || !GeminiUsage.TryReadPlain(ref cursor, _usage, out var chunk, slots, out var slotCount))
        {
            return false;
        }

        // The members after it (modelVersion, responseId, createTime...): scalars, then the end of the chunk.
        while (cursor.Take((byte)','))
        {
            if (!cursor.TryReadName(out var name) || !cursor.TrySkipScalar()
                || name.SequenceEqual("error"u8) || name.SequenceEqual("promptFeedback"u8) || name.SequenceEqual("candidates"u8)
                || (ResponseModel is null && name.SequenceEqual("modelVersion"u8)) || (ResponseId is null && name.SequenceEqual("responseId"u8)))
            {
                return false;
            }
        }

        if (!cursor.Take((byte)'}') || !cursor.AtEnd())
        {
            return false;
        }

        _usage = _usage.MergeLatest(chunk);

        // Kept for the next chunk (a usage object of a few hundred bytes at most; anything larger is read each time).
        var suffix = json[at..];
        if (slotCount >= 0 && suffix.Length <= SlotsAt)
        {
            _template ??= ArrayPool<byte>.Shared.Rent(SlotsAt + (MaxSlots * Unsafe.SizeOf<GeminiUsageSlot>()));

            suffix.CopyTo(_template);
            slots[..slotCount].CopyTo(Slots());
            _templateLength = suffix.Length;
            _slotCount = slotCount;
            _slotFieldsUnique = true;
            var fields = 0;
            foreach (var slot in slots[..slotCount])
            {
                if (GeminiUsage.IsCountField(slot.Code))
                {
                    _slotFieldsUnique &= (fields & (1 << slot.Code)) == 0;
                    fields |= 1 << slot.Code;
                }
            }

            _templateCurrent = _slotFieldsUnique;
        }

        return true;
    }

    /// <summary>The chunk ends with the last chunk's usage object (the template) with only some counts changed: those are read
    /// and set, and copied into the template; the rest are in <c>_usage</c> already. The differences are found with vectorised
    /// common-prefix searches; each must fall inside a count slot (not a detail) whose new bytes are a plain count. Declines
    /// (nothing changed) on anything else, and the slot path reads the chunk. The same checks of the text before the member
    /// as that path (<see cref="PrefixMayMatter"/>).</summary>
    private bool TryReadChangedCounts(ReadOnlySpan<byte> json, int templateAt)
    {
        var suffix = json[templateAt..];
        var template = _template.AsSpan(0, _templateLength);
        var slots = Slots()[.._slotCount];
        var changed = 0;
        var next = 0;
        var pos = 0;
        while (true)
        {
            pos += suffix[pos..].CommonPrefixLength(template[pos..]);
            if (pos == suffix.Length)
            {
                break;
            }

            // The slot holding the first difference (slots are in reading order); its bytes must be a plain count.
            var at = pos - UsageName.Length;
            while (next < slots.Length && slots[next].Offset + slots[next].Length <= at)
            {
                next++;
            }

            if (next == slots.Length || slots[next].Offset > at || !GeminiUsage.IsCountField(slots[next].Code))
            {
                return false;
            }

            var digits = suffix.Slice(UsageName.Length + slots[next].Offset, slots[next].Length);
            if (digits.ContainsAnyExceptInRange((byte)'0', (byte)'9') || (digits.Length > 1 && digits[0] == (byte)'0'))
            {
                return false;
            }

            changed |= 1 << next;
            pos = UsageName.Length + slots[next].Offset + slots[next].Length;
            next++;
        }

        if (!JsonText.IsDelimiterQuote(json, templateAt) || PrefixMayMatter(json[..templateAt]))
        {
            return false;
        }

        for (var i = 0; changed != 0; i++, changed >>= 1)
        {
            if ((changed & 1) != 0)
            {
                var at = UsageName.Length + slots[i].Offset;
                var digits = suffix.Slice(at, slots[i].Length);
                GeminiUsage.SetCount(ref _usage, slots[i].Code, digits);
                digits.CopyTo(_template.AsSpan(at));
            }
        }

        return true;
    }

    /// <summary>Whether the text before the usage member may hold a member the full parse reads: a string <c>"usageMetadata"</c>,
    /// <c>"finishReason"</c>, <c>"promptFeedback"</c>, <c>"error"</c> (and <c>"modelVersion"</c>, <c>"responseId"</c> while those are
    /// unknown) at a delimiting quote, or a <c>\u</c> escape that may spell a letter of one. One vectorised pass finds the places
    /// where such a name may start; each is checked exactly.</summary>
    private bool PrefixMayMatter(ReadOnlySpan<byte> before)
    {
        var idKnown = ResponseModel is not null && ResponseId is not null;
        var pairs = idKnown ? "usfiprer"u8 : "usfiprermore"u8;
        var pos = 0;
        while (pos < before.Length)
        {
            var hit = JsonText.IndexOfNameStart(before[pos..], pairs);
            if (hit < 0)
            {
                return false;
            }

            hit += pos;
            var rest = before[hit..];
            if (rest[0] == (byte)'\\')
            {
                if (JsonText.MayHaveEscapedLetter(rest[..Math.Min(6, rest.Length)]))
                {
                    return true;
                }
            }
            else if ((rest.StartsWith(UsageName) || rest.StartsWith("\"finishReason\""u8) || rest.StartsWith("\"promptFeedback\""u8)
                    || rest.StartsWith("\"error\""u8) || (ResponseModel is null && rest.StartsWith("\"modelVersion\""u8))
                    || (ResponseId is null && rest.StartsWith("\"responseId\""u8)))
                && JsonText.IsDelimiterQuote(before, hit))
            {
                return true;
            }

            pos = hit + 1;
        }

        return false;
    }

    /// <summary>Reads a Gemini error object and returns its <c>status</c> (or <c>code</c>).</summary>
    internal static string ReadErrorStatus(ref Utf8JsonReader reader)
    {
        string? status = null;
        string? code = null;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
                {
                    var isStatus = reader.ValueTextEquals("status"u8);
                    var isCode = reader.ValueTextEquals("code"u8);
                    reader.Read();
                    if (isStatus && reader.TokenType == JsonTokenType.String)
                    {
                        status = reader.GetString();
                    }
                    else if (isCode && reader.TokenType == JsonTokenType.Number)
                    {
                        code = reader.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        else
        {
            reader.Skip();
        }

        return status ?? code ?? "error";
    }

    private void ReadCandidates(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        var collect = _usage.IsEmpty;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == depth + 2 && reader.ValueTextEquals("finishReason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    FinishReason = reader.GetString();
                    Completed = true;
                }
            }
            else if (collect && reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    OutputText.AppendJsonEscaped(reader.ValueSpan);
                }
            }
            else if (reader.CurrentDepth == depth + 2 && !reader.ValueTextEquals("content"u8))
            {
                // safetyRatings, citationMetadata, logprobs...: nothing to meter.
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static bool HasBlockReason(ref Utf8JsonReader reader)
    {
        var blocked = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
            {
                blocked |= reader.ValueTextEquals("blockReason"u8);
                reader.Read();
                reader.Skip();
            }
        }

        return blocked;
    }
}

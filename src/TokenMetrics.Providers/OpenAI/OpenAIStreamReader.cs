using System.Buffers;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Reads an OpenAI <c>text/event-stream</c>: Chat Completions and legacy Completions chunks, and Responses API events.</summary>
/// <remarks>
/// <para>Each event is scanned with vectorised searches for the few members that matter (<c>"usage":{</c>, <c>"model":"</c>,
/// content deltas, finish reasons); only a usage object is parsed. Usage is read before any <c>choices</c> logic, so the
/// usage-only final chunk (<c>"choices":[]</c>) and Azure content-filter chunks are handled. The usual Chat Completions chunk
/// (one content delta, nothing else in its choice) is recognised from its end instead, with the same result.</para>
/// <para>When TokenMetrics injected <c>stream_options.include_usage</c>, the reader also rewrites the stream the app reads:
/// the usage-only chunk is withheld and the <c>"usage":null</c> member OpenAI then adds to every chunk is removed, so the app
/// reads the bytes it would have read without TokenMetrics. Events larger than <c>MaxSseEventBytes</c> are not held: they
/// stream through <see cref="UsageNullStreamCutter"/>, which cuts the member on the way.</para>
/// <para>With an output cap (<see cref="IStreamOutputCapReader"/>) it transforms too: events under the cap go to the app byte
/// for byte, and at the cap it writes OpenAI's own end (<see cref="OpenAIStreamCapEnd"/>) and ignores the rest.</para>
/// </remarks>
internal sealed class OpenAIStreamReader : TokenUsageResponseReader, ISseEventSink, IDisposable, IStreamOutputCapReader
{
    private readonly OpenAIOperation _operation;
    private readonly int _maxEventBytes;
    private readonly bool _transform;
    private SseEventReader _sse;
    private IBufferWriter<byte>? _output;
    private UsageNullStreamCutter? _cutter;

    // The output cap (null: off, and none of this runs).
    private StreamOutputCap? _cap;
    private bool _capEnded;
    private bool _appAskedUsage;
    private long _created;
    private long _sequenceNumber = -1;
    private byte[]? _responseObject;

    // The fast path's findings for the event being read: where its "usage":null member starts (-1: not known), and the chunk
    // head last checked (pooled): for a usage member in Chat Completions, for the names the general path searches in Responses.
    private int _usageNullAt = -1;
    private byte[]? _checkedHead;
    private int _checkedHeadLength;

    public OpenAIStreamReader(OpenAIOperation operation, int maxEventBytes, bool withholdInjectedUsage)
    {
        _operation = operation;
        _maxEventBytes = maxEventBytes;
        _transform = withholdInjectedUsage;
        _sse = new SseEventReader(maxEventBytes, captureRaw: withholdInjectedUsage);
    }

    /// <summary>Gets or sets a value indicating whether the usual content chunk is read by <see cref="TryObserveContentChunk"/> (the
    /// usual Responses text delta by <see cref="TryObserveTextDelta"/>); off only in tests, which compare it with the general path.</summary>
    internal bool FastPath { get; init; } = true;

    /// <summary>Gets the number of events the fast paths read (tests check that they ran).</summary>
    internal int FastPathChunks { get; private set; }

    public override bool TransformsContent => _transform || _cap is not null;

    /// <summary>Chat Completions and Responses; legacy Completions streams are left as they are.</summary>
    public bool EnableCap(StreamOutputCap cap)
    {
        if (_operation is not (OpenAIOperation.ChatCompletions or OpenAIOperation.Responses))
        {
            return false;
        }

        _cap = cap;
        OutputText.Cap = cap;
        if (!_transform)
        {
            // Events must be forwarded whole, so their bytes are kept.
            _sse.Dispose();
            _sse = new SseEventReader(_maxEventBytes, captureRaw: true);
        }

        return true;
    }

    public override void Write(ReadOnlySpan<byte> data) => _sse.Feed(data, this);

    public override void Complete() => _sse.Complete(this);

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        _output = output;
        try
        {
            _sse.Feed(data, this);
            if (final && !_capEnded)
            {
                _sse.Complete(this);
                _cutter?.Flush(output);
            }
        }
        finally
        {
            _output = null;
        }
    }

    public void OnEvent(SseEvent sseEvent)
    {
        if (_capEnded)
        {
            return; // after the cut nothing more is read or forwarded
        }

        var data = sseEvent.Data;
        var forward = true;
        _usageNullAt = -1;
        if (sseEvent.HasData)
        {
            _cap?.BeginEvent();
            forward = Observe(sseEvent.EventType, data);
            if (_cap is not null && !CapAllows(sseEvent.EventType, data))
            {
                return;
            }
        }

        if (_output is null)
        {
            return;
        }

        if (!forward)
        {
            return;
        }

        // Remove the "usage":null member that exists only because include_usage was injected.
        var raw = sseEvent.Raw;
        if (_transform && sseEvent.HasData && !sseEvent.IsMultiLine)
        {
            // The usual content chunk: the fast path found the member and checked the text before "choices".
            if (_usageNullAt >= 0 && DataOffset(raw, data) is var known and >= 0)
            {
                WriteWithout(_output, raw, known + _usageNullAt, known + _usageNullAt + UsageNull.Length);
                return;
            }

            // OpenAI writes it last: found from the end, without reading the chunk.
            if (JsonText.TryFindLastNullProperty(data, "\"usage\":null"u8, out var cutStart, out var cutEnd) && DataOffset(raw, data) is var offset and >= 0)
            {
                WriteWithout(_output, raw, offset + cutStart, offset + cutEnd);
                return;
            }

            if (data.IndexOf("\"usage\":null"u8) >= 0 && DataOffset(raw, data) is var at and >= 0)
            {
                var output = _output;
                output.Write(raw[..at]);
                if (JsonText.TryRemoveTopLevelNullProperty(data, "usage"u8, output))
                {
                    output.Write(raw[(at + data.Length)..]);
                    return;
                }

                // Nothing removed: write the event as it was (the prefix is already out).
                output.Write(raw[at..]);
                return;
            }
        }

        _output.Write(raw);
    }

    /// <summary>Writes <paramref name="raw"/> without the bytes from <paramref name="cutStart"/> to <paramref name="cutEnd"/>, in one
    /// write.</summary>
    private static void WriteWithout(IBufferWriter<byte> output, ReadOnlySpan<byte> raw, int cutStart, int cutEnd)
    {
        var length = raw.Length - (cutEnd - cutStart);
        var span = output.GetSpan(length);
        raw[..cutStart].CopyTo(span);
        raw[cutEnd..].CopyTo(span[cutStart..]);
        output.Advance(length);
    }

    /// <summary>Where a one-line event's data is in its raw bytes. An event that is <c>data: </c> (or <c>data:</c>), then as many
    /// bytes as the data has, then only line ends, has its data right there (a line end inside would have cut it shorter); any
    /// other event is searched.</summary>
    private static int DataOffset(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> data)
    {
        var at = raw.StartsWith("data: "u8) ? 6 : raw.StartsWith("data:"u8) ? 5 : -1;
        if (at > 0 && raw.Length - at - data.Length is >= 1 and <= 4 && raw[(at + data.Length)..].IndexOfAnyExcept((byte)'\r', (byte)'\n') < 0)
        {
            return at;
        }

        return raw.IndexOf(data);
    }

    public void OnPassthrough(ReadOnlySpan<byte> raw)
    {
        if (_output is null || _capEnded)
        {
            return;
        }

        if (!_transform)
        {
            // Only the cap transforms: an event too large to hold goes through as it is (uncounted: the cap fails open).
            _output.Write(raw);
            return;
        }

        // An event too large to hold streams through; the member is cut on the way, at any size.
        (_cutter ??= new UsageNullStreamCutter()).Write(raw, _output);
    }

    /// <summary>After an event was observed (its answer text counted): <see langword="true"/> to forward it; otherwise the cap is
    /// reached and the app gets OpenAI's own end of stream instead of the event.</summary>
    private bool CapAllows(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
    {
        if (_operation == OpenAIOperation.Responses)
        {
            return ResponsesCapAllows(eventType, data);
        }

        if (_cap!.EndEvent())
        {
            if (_created == 0 && JsonText.TryGetTopLevelValue(data, "created"u8, out var created))
            {
                _ = System.Buffers.Text.Utf8Parser.TryParse(created, out _created, out _);
            }

            // The app's own include_usage puts a usage member on every chunk (injected usage is withheld from it).
            _appAskedUsage |= !_transform && !data.SequenceEqual("[DONE]"u8) && data.IndexOf("\"usage\":"u8) >= 0;
            return true;
        }

        _capEnded = true;
        Completed = true;
        if (_output is not null)
        {
            (long, long)? usage = _appAskedUsage ? (_cap.EstimateInputTokens() ?? 0, _cap.Tokens) : null;
            OpenAIStreamCapEnd.Write(_output, ResponseId, _created, ResponseModel, usage);
        }

        return false;
    }

    /// <summary>The Responses API: keeps the <c>response</c> object of <c>response.created</c> and the last sequence number, and at
    /// the cap ends with <c>response.incomplete</c> (<c>max_output_tokens</c>), as OpenAI does.</summary>
    private bool ResponsesCapAllows(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
    {
        if (_cap!.EndEvent())
        {
            if (JsonText.TryGetTopLevelValue(data, "sequence_number"u8, out var sequence))
            {
                _ = System.Buffers.Text.Utf8Parser.TryParse(sequence, out _sequenceNumber, out _);
            }

            var type = eventType.IsEmpty && FindString(data, "\"type\":\""u8) is { } t ? t : eventType;
            if ((type.SequenceEqual("response.created"u8) || type.SequenceEqual("response.in_progress"u8))
                && JsonText.TryGetTopLevelValue(data, "response"u8, out var response))
            {
                _responseObject = response.ToArray();
            }

            return true;
        }

        _capEnded = true;
        Completed = true;
        if (_output is not null)
        {
            OpenAIStreamCapEnd.WriteResponsesIncomplete(_output, _responseObject, _sequenceNumber + 1, _cap.EstimateInputTokens() ?? 0, _cap.Tokens);
        }

        return false;
    }

    public void Dispose()
    {
        _sse.Dispose();
        if (_checkedHead is not null)
        {
            ArrayPool<byte>.Shared.Return(_checkedHead);
            _checkedHead = null;
        }
    }

    /// <summary>Observes one event; returns <see langword="false"/> when it must be withheld from the app.</summary>
    private bool Observe(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            Completed = true;
            return true;
        }

        if (ResponseModel is null && FindString(data, "\"model\":\""u8) is { Length: > 0 } model)
        {
            ResponseModel = JsonText.UnescapeFragments(model);
        }

        if (ResponseId is null && FindString(data, "\"id\":\""u8) is { Length: > 0 } id)
        {
            ResponseId = JsonText.UnescapeFragments(id);
        }

        if (_operation == OpenAIOperation.ChatCompletions && FastPath && TryObserveContentChunk(data))
        {
            if (Capture is { } captured)
            {
                OpenAIContent.ObserveChatChunk(data, captured);
            }

            return true;
        }

        if (_operation == OpenAIOperation.Responses && FastPath && ResponseModel is not null && ResponseId is not null
            && eventType.SequenceEqual("response.output_text.delta"u8) && TryObserveTextDelta(data))
        {
            if (Capture is { } captured)
            {
                OpenAIContent.ObserveResponsesEvent(eventType, data, captured);
            }

            return true;
        }

        var hasUsage = false;
        var usageAt = data.LastIndexOf("\"usage\":"u8);
        if (usageAt >= 0)
        {
            var value = data[(usageAt + 8)..].TrimStart(" \t\r\n"u8);
            if (!value.IsEmpty && value[0] == (byte)'{')
            {
                try
                {
                    if (OpenAIUsage.Parse(value) is { } usage)
                    {
                        Usage = (Usage ?? TokenUsage.Empty).MergeLatest(usage);
                        hasUsage = true;
                    }
                }
                catch (System.Text.Json.JsonException)
                {
                    // A malformed usage object is skipped; the rest of the stream is still read.
                }
            }
        }

        if (_operation == OpenAIOperation.Responses)
        {
            ObserveResponsesEvent(eventType, data);
            return true;
        }

        if (Capture is { } capture)
        {
            OpenAIContent.ObserveChatChunk(data, capture);
        }

        // Deltas, tool arguments and finish reasons live inside "choices", which OpenAI writes near the end of a chunk:
        // find it from the end and search only from there on.
        var choicesAt = data.LastIndexOf("\"choices\":"u8);
        if (choicesAt >= 0)
        {
            var choices = data[choicesAt..];
            if (choices.Length > 14)
            {
                AppendAll(choices, "\"content\":\""u8);
                if (_operation == OpenAIOperation.Completions)
                {
                    AppendAll(choices, "\"text\":\""u8);
                }

                // Only tool calls (and legacy function calls) carry "arguments".
                AppendAll(choices, "\"arguments\":\""u8);

                // finish_reason is the last member of a choice: look from the end; a string (not null) ends the answer.
                var finishAt = choices.LastIndexOf("\"finish_reason\":"u8);
                if (finishAt >= 0 && choices[(finishAt + 16)..].TrimStart(" \t\r\n"u8) is [(byte)'"', ..])
                {
                    Completed = true;
                }
            }
        }
        else if (data.IndexOf("\"error\":"u8) >= 0)
        {
            ErrorType = FindString(data, "\"type\":\""u8) is { Length: > 0 } t ? JsonText.UnescapeFragments(t) : "error";
        }

        // The usage-only chunk the app did not ask for: "choices":[] with a usage object.
        return !(_transform && hasUsage && IsEmptyChoices(data));
    }

    /// <summary>The usual Chat Completions chunk, one content delta, recognised from its end with fixed-place comparisons instead of
    /// the general path's searches: <c>"choices":[{"index":N,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]</c>, then
    /// <c>,"usage":null</c> or nothing, then <c>,"obfuscation":"…"</c> or nothing, then <c>}</c>. The content is appended; nothing
    /// else in such a chunk matters (no usage object, no finish reason, no arguments). Any other chunk gives <see langword="false"/>
    /// with nothing done, and the general path reads it.</summary>
    /// <remarks>The result is the general path's, byte for byte, for any input matched: after <c>"choices":</c> every quote but the
    /// content's own escaped ones delimits a string (checked), so none of the names the general path searches for can occur there
    /// except at the places matched; before it only a usage member could matter, and it is searched for when the chunk has none at
    /// its end (the general path would read the last one).</remarks>
    private bool TryObserveContentChunk(ReadOnlySpan<byte> data)
    {
        if (data.Length < 64 || data[^1] != (byte)'}' || EndBeforePadding(data) is not (>= 0 and var end))
        {
            return false;
        }

        var usageNull = data[..end].EndsWith(UsageNull);
        if (usageNull)
        {
            end -= UsageNull.Length;
        }

        if (!data[..end].EndsWith(ContentTail))
        {
            return false;
        }

        var close = end - ContentTail.Length;
        var open = JsonText.OpeningQuote(data, close);
        var delta = open + 1 - ContentHead.Length;
        if (open < 0 || delta < 0 || !data[delta..(open + 1)].SequenceEqual(ContentHead))
        {
            return false;
        }

        var index = delta;
        while (index > 0 && (uint)(data[index - 1] - '0') <= 9)
        {
            index--;
        }

        var choicesAt = index - ChoicesHead.Length;
        if (index == delta || choicesAt < 0 || !data[choicesAt..index].SequenceEqual(ChoicesHead))
        {
            return false;
        }

        if (!usageNull && data[..choicesAt].LastIndexOf("\"usage\":"u8) >= 0)
        {
            return false; // the general path would read that one
        }

        OutputText.AppendJsonEscaped(data[(open + 1)..close]);
        FastPathChunks++;
        if (_transform && usageNull && HeadHasNoUsage(data[..choicesAt]))
        {
            // The member the rewrite removes: the first top-level "usage", as the full path would find it.
            _usageNullAt = end;
        }

        return true;
    }

    /// <summary>Where an event that ends with <c>}</c> ends before OpenAI's <c>"obfuscation"</c> padding (the last member when the app
    /// did not turn it off): the index of the closing brace without padding, of the comma before the padding with it; -1 when the
    /// last member is a string that is not the padding.</summary>
    private static int EndBeforePadding(ReadOnlySpan<byte> data)
    {
        var end = data.Length - 1;
        if (data[end - 1] != (byte)'"')
        {
            return end;
        }

        var padding = JsonText.OpeningQuote(data, end - 1);
        return padding >= 0 && data[..padding].EndsWith(",\"obfuscation\":"u8) ? padding - 15 : -1;
    }

    /// <summary>The usual Responses text delta (its <c>event:</c> is <c>response.output_text.delta</c>), recognised from its end
    /// with fixed-place comparisons: <c>,"delta":"…","logprobs":[]</c>, then <c>,"obfuscation":"…"</c> or nothing, then <c>}</c>.
    /// The delta is appended; nothing else in such an event matters. Any other event gives <see langword="false"/> with nothing
    /// done, and the general path reads it.</summary>
    /// <remarks>The result is the general path's (which searches the whole event for <c>"usage":</c> and for every
    /// <c>"delta":"</c>): from the matched <c>,"delta":"</c> on, every quote but the strings' own escaped ones delimits (checked),
    /// so neither name can occur there except at the place matched; neither can span the cut (<c>,</c> starts no part of them);
    /// and the text before it is checked to have neither (<see cref="DeltaHeadIsPlain"/>).</remarks>
    private bool TryObserveTextDelta(ReadOnlySpan<byte> data)
    {
        if (data.Length < 32 || data[^1] != (byte)'}' || EndBeforePadding(data) is not (>= 0 and var end))
        {
            return false;
        }

        if (end < DeltaTail.Length || !data[..end].EndsWith(DeltaTail))
        {
            return false;
        }

        var close = end - DeltaTail.Length;
        var open = JsonText.OpeningQuote(data, close);
        var head = open + 1 - DeltaHead.Length;
        if (open < 0 || head < 0 || !data[head..(open + 1)].SequenceEqual(DeltaHead) || !DeltaHeadIsPlain(data[..head]))
        {
            return false;
        }

        OutputText.AppendJsonEscaped(data[(open + 1)..close]);
        FastPathChunks++;
        return true;
    }

    /// <summary>Whether the text of a Responses delta before its <c>"delta"</c> member has neither <c>"usage":</c> nor
    /// <c>"delta":"</c> (the general path's searches). A stream repeats that text with only the sequence number changing, so
    /// text equal to the last one checked except in digits (neither name has a digit) is not searched again.</summary>
    private bool DeltaHeadIsPlain(ReadOnlySpan<byte> head)
    {
        if (_checkedHead is { } checkedHead && _checkedHeadLength == head.Length && JsonText.EqualExceptDigits(head, checkedHead.AsSpan(0, _checkedHeadLength)))
        {
            return true;
        }

        if (head.IndexOf("\"usage\":"u8) >= 0 || head.IndexOf("\"delta\":\""u8) >= 0)
        {
            return false;
        }

        KeepCheckedHead(head);
        return true;
    }

    private static ReadOnlySpan<byte> DeltaHead => ",\"delta\":\""u8;

    private static ReadOnlySpan<byte> DeltaTail => "\",\"logprobs\":[]"u8;

    /// <summary>Whether the chunk's text before <c>"choices"</c> certainly has no member named usage. OpenAI repeats that text
    /// byte for byte in every chunk of a stream, so once checked it is compared, not searched again.</summary>
    private bool HeadHasNoUsage(ReadOnlySpan<byte> head)
    {
        if (_checkedHead is { } checkedHead && head.SequenceEqual(checkedHead.AsSpan(0, _checkedHeadLength)))
        {
            return true;
        }

        if (JsonText.MayHaveQuotedName(head, "\"usage\""u8))
        {
            return false;
        }

        KeepCheckedHead(head);
        return true;
    }

    /// <summary>Keeps <paramref name="head"/> as the head last checked (in a pooled buffer, grown when needed).</summary>
    private void KeepCheckedHead(ReadOnlySpan<byte> head)
    {
        if (_checkedHead is null || _checkedHead.Length < head.Length)
        {
            if (_checkedHead is not null)
            {
                ArrayPool<byte>.Shared.Return(_checkedHead);
            }

            _checkedHead = ArrayPool<byte>.Shared.Rent(head.Length);
        }

        head.CopyTo(_checkedHead);
        _checkedHeadLength = head.Length;
    }

    private static ReadOnlySpan<byte> UsageNull => ",\"usage\":null"u8;

    private static ReadOnlySpan<byte> ChoicesHead => "\"choices\":[{\"index\":"u8;

    private static ReadOnlySpan<byte> ContentHead => ",\"delta\":{\"content\":\""u8;

    private static ReadOnlySpan<byte> ContentTail => "\"},\"logprobs\":null,\"finish_reason\":null}]"u8;

    private void ObserveResponsesEvent(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
    {
        var type = eventType.IsEmpty && FindString(data, "\"type\":\""u8) is { } t ? t : eventType;
        if (Capture is { } capture)
        {
            OpenAIContent.ObserveResponsesEvent(type, data, capture);
        }

        if (type.SequenceEqual("response.output_text.delta"u8) || type.SequenceEqual("response.function_call_arguments.delta"u8) || type.SequenceEqual("response.reasoning_summary_text.delta"u8))
        {
            AppendAll(data, "\"delta\":\""u8);
        }
        else if (type.SequenceEqual("response.completed"u8))
        {
            Completed = true;
            ResponseModel = FindString(data, "\"model\":\""u8) is { Length: > 0 } m ? JsonText.UnescapeFragments(m) : ResponseModel;
        }
        else if (type.SequenceEqual("response.failed"u8) || type.SequenceEqual("error"u8))
        {
            ErrorType = FindString(data, "\"code\":\""u8) is { Length: > 0 } code ? JsonText.UnescapeFragments(code) : "failed";
        }

        if (type.StartsWith("response.created"u8) || type.StartsWith("response.in_progress"u8))
        {
            // The id of the response, not of an output item.
            ResponseId ??= FindString(data, "\"id\":\"resp"u8) is { } rest ? "resp" + JsonText.UnescapeFragments(rest) : null;
        }
    }

    private void AppendAll(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix)
    {
        var pos = 0;
        while (pos < data.Length)
        {
            var at = data[pos..].IndexOf(prefix);
            if (at < 0)
            {
                return;
            }

            var start = pos + at + prefix.Length;
            var end = JsonText.FindStringEnd(data, start);
            if (end < 0)
            {
                return;
            }

            OutputText.AppendJsonEscaped(data[start..end]);
            pos = end + 1;
        }
    }

    private static ReadOnlySpan<byte> FindString(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix)
    {
        var at = data.IndexOf(prefix);
        if (at < 0)
        {
            return default;
        }

        var start = at + prefix.Length;
        var end = JsonText.FindStringEnd(data, start);
        return end < 0 ? default : data[start..end];
    }

    private static bool IsEmptyChoices(ReadOnlySpan<byte> data) =>
        JsonText.TryGetTopLevelValue(data, "choices"u8, out var choices) && choices.Trim(" \t\r\n"u8).SequenceEqual("[]"u8);
}

using System.Buffers;

namespace TokenMetrics;

/// <summary>An incremental, push-style <c>text/event-stream</c> parser working on bytes.</summary>
/// <remarks>
/// <para>Follows the WHATWG framing: lines end with CR, LF or CRLF (also split across reads); <c>data:</c> with or without
/// the space; several <c>data:</c> lines joined by LF; comments ignored; an event is dispatched on a blank line. Bytes are never
/// decoded per read, so a multi-byte UTF-8 character split across reads stays intact.</para>
/// <para>An event larger than the limit is dropped (counted in <see cref="OversizedEvents"/>) and parsing resynchronises at the next
/// blank line: metering fails open. At end of stream an event without its blank line is still dispatched, since servers that
/// close right after the last line are common and that event often carries the usage.</para>
/// <para>Steady state allocates nothing: buffers come from <see cref="ArrayPool{T}"/> and grow only for larger events.</para>
/// </remarks>
internal sealed class SseEventReader : IDisposable
{
    private readonly int _maxEventBytes;
    private readonly bool _captureRaw;
    private byte[] _line = [];
    private int _lineLength;
    private byte[] _data = [];
    private int _dataLength;
    private byte[] _type = [];
    private int _typeLength;
    private byte[] _raw = [];
    private int _rawLength;
    private bool _hasData;
    private bool _multiLine;
    private bool _skipLeadingLf;
    private bool _dispatchPending;
    private bool _discarding;
    private bool _rawPassthrough;

    // Zero-copy fast path: a single data line wholly inside the current read is referenced by offset, not copied,
    // and copied only if the event is still open when the read ends.
    private int _inlineStart = -1;
    private int _inlineLength;

    // The same for the event type, and in capture mode for the event's raw bytes: while the event began in the current read,
    // they are offsets into it (copied only if the event is still open when the read ends).
    private int _typeInlineStart = -1;
    private int _rawInlineStart = -1;

    /// <summary>Initializes a new instance of the <see cref="SseEventReader"/> class.</summary>
    /// <param name="maxEventBytes">The largest event (and line) kept, in bytes.</param>
    /// <param name="captureRaw">Whether to keep each event's exact bytes, for readers that rewrite the stream.</param>
    public SseEventReader(int maxEventBytes = 1 << 20, bool captureRaw = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventBytes, 64);
        _maxEventBytes = maxEventBytes;
        _captureRaw = captureRaw;
    }

    /// <summary>Gets the number of events dropped because they were larger than the limit.</summary>
    public int OversizedEvents { get; private set; }

    /// <summary>Gets the number of events dispatched.</summary>
    public long Events { get; private set; }

    /// <summary>Gets or sets a value indicating whether the usual event is framed by <see cref="TryWholeEvent"/>; off only in tests,
    /// which compare it with the general loop.</summary>
    internal bool WholeEvents { get; init; } = true;

    /// <summary>Gets the number of events <see cref="TryWholeEvent"/> framed (tests check that it ran).</summary>
    internal long WholeEventsFramed { get; private set; }

    /// <summary>Parses the next bytes of the stream.</summary>
    /// <param name="chunk">The bytes, in stream order.</param>
    /// <param name="sink">Receives complete events.</param>
    public void Feed(ReadOnlySpan<byte> chunk, ISseEventSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        try
        {
            FeedCore(chunk, sink);
        }
        finally
        {
            if (_inlineStart >= 0)
            {
                MaterializeInline(chunk);
            }

            if (_typeInlineStart >= 0)
            {
                chunk.Slice(_typeInlineStart, _typeLength).CopyTo(_type);
                _typeInlineStart = -1;
            }

            if (_rawInlineStart >= 0)
            {
                MaterializeRaw(chunk);
            }
        }
    }

    private void FeedCore(ReadOnlySpan<byte> chunk, ISseEventSink sink)
    {
        var pos = 0;
        if (_skipLeadingLf && chunk.Length > 0)
        {
            _skipLeadingLf = false;
            if (chunk[0] == (byte)'\n')
            {
                AppendRaw(chunk, 0, 1, sink);
                pos = 1;
            }
        }

        if (_dispatchPending)
        {
            _dispatchPending = false;
            Dispatch(sink);
        }

        // At an event's start with nothing held, a whole event in this read is framed by TryWholeEvent.
        var eventStart = WholeEvents && _lineLength == 0 && !_hasData && _typeLength == 0 && _rawLength == 0 && !_discarding && !_rawPassthrough;
        while (pos < chunk.Length)
        {
            if (eventStart)
            {
                if (TryWholeEvent(chunk, ref pos, sink))
                {
                    continue;
                }

                eventStart = false;
            }

            var rest = chunk[pos..];

            // A blank line (the end of an event) needs no search.
            var idx = rest[0] is (byte)'\r' or (byte)'\n' ? 0 : rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (idx < 0)
            {
                AppendRaw(chunk, pos, rest.Length, sink);
                AppendLine(rest);
                return;
            }

            var terminator = 1;
            var crAtEnd = false;
            if (rest[idx] == (byte)'\r')
            {
                if (idx + 1 < rest.Length)
                {
                    if (rest[idx + 1] == (byte)'\n')
                    {
                        terminator = 2;
                    }
                }
                else
                {
                    crAtEnd = true;
                }
            }

            AppendRaw(chunk, pos, idx + terminator, sink);
            ReadOnlySpan<byte> line;
            var lineStart = -1;
            if (_lineLength > 0)
            {
                AppendLine(rest[..idx]);
                line = _discarding ? default : _line.AsSpan(0, _lineLength);
            }
            else
            {
                line = rest[..idx];
                lineStart = pos;
            }

            _lineLength = 0;
            pos += idx + terminator;
            if (crAtEnd)
            {
                _skipLeadingLf = true;
            }

            if (line.IsEmpty && !_discardingLine)
            {
                if (crAtEnd && _captureRaw)
                {
                    // The LF of a CRLF may be in the next read: dispatch then, so the event's raw bytes are whole.
                    _dispatchPending = true;
                    return;
                }

                Dispatch(sink, chunk);
                eventStart = WholeEvents;
            }
            else
            {
                ProcessField(line, lineStart, chunk);
            }

            _discardingLine = false;
        }
    }

    /// <summary>Frames the usual event in one go: an optional <c>event:</c> line, one <c>data:</c> line and the blank line, all
    /// inside this read, with nothing held from before. One search per line; the event is dispatched as spans into the read
    /// (its raw bytes too), without the per-line state the general loop keeps. Anything else (comments, other fields, several
    /// data lines, an event cut by the end of the read, a CR that is the read's last byte, an event over the limit) gives
    /// <see langword="false"/> with nothing changed, and the general loop frames it: the events are the same either way.</summary>
    private bool TryWholeEvent(ReadOnlySpan<byte> chunk, ref int pos, ISseEventSink sink)
    {
        var rest = chunk[pos..];
        ReadOnlySpan<byte> type = default;
        var at = 0;
        if (rest.StartsWith("event:"u8))
        {
            var typeEnd = LineEnd(rest, 6, out at);
            if (typeEnd < 0)
            {
                return false;
            }

            type = rest[6..typeEnd];
            if (!type.IsEmpty && type[0] == (byte)' ')
            {
                type = type[1..];
            }

            type = type[..Math.Min(type.Length, 256)];
        }

        if (!rest[at..].StartsWith("data:"u8))
        {
            return false;
        }

        // The blank line that ends the event must follow at once (LineEnd is the line-end rule for it too).
        var dataEnd = LineEnd(rest, at + 5, out var blank);
        if (dataEnd < 0 || blank >= rest.Length || rest[blank] is not ((byte)'\r' or (byte)'\n') || LineEnd(rest, blank, out var end) < 0)
        {
            return false;
        }

        var data = rest[(at + 5)..dataEnd];
        if (!data.IsEmpty && data[0] == (byte)' ')
        {
            data = data[1..];
        }

        if (data.Length > _maxEventBytes || (_captureRaw && end > _maxEventBytes + 4096))
        {
            return false;
        }

        Events++;
        WholeEventsFramed++;
        pos += end;
        sink.OnEvent(new SseEvent(type, data, true, _captureRaw ? rest[..end] : default));
        return true;
    }

    /// <summary>The end of the line that goes on at <paramref name="from"/>, and in <paramref name="next"/> where the next line
    /// starts; -1 when the line end is not in <paramref name="span"/> or is a CR that is its last byte (an LF may follow).</summary>
    private static int LineEnd(ReadOnlySpan<byte> span, int from, out int next)
    {
        next = 0;
        var eol = span[from..].IndexOfAny((byte)'\r', (byte)'\n');
        if (eol < 0)
        {
            return -1;
        }

        eol += from;
        if (span[eol] == (byte)'\n')
        {
            next = eol + 1;
        }
        else if (eol + 1 < span.Length)
        {
            next = span[eol + 1] == (byte)'\n' ? eol + 2 : eol + 1;
        }
        else
        {
            return -1;
        }

        return eol;
    }

    /// <summary>Signals the end of the stream; dispatches an event left without its blank line.</summary>
    /// <param name="sink">Receives the last event.</param>
    public void Complete(ISseEventSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _skipLeadingLf = false;
        if (_lineLength > 0 && !_discarding)
        {
            ProcessField(_line.AsSpan(0, _lineLength));
        }

        _lineLength = 0;
        if (_dispatchPending || _hasData || _rawLength > 0)
        {
            _dispatchPending = false;
            Dispatch(sink);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Return(ref _line);
        Return(ref _data);
        Return(ref _type);
        Return(ref _raw);
        _lineLength = _dataLength = _typeLength = _rawLength = 0;
    }

    private bool _discardingLine;

    private void ProcessField(ReadOnlySpan<byte> line) => ProcessField(line, -1, default);

    private void ProcessField(ReadOnlySpan<byte> line, int lineStart, ReadOnlySpan<byte> chunk)
    {
        if (_discarding || line.IsEmpty || line[0] == (byte)':')
        {
            return;
        }

        // "data:" first: nearly every line is one.
        var colon = line.Length >= 5 && line[4] == (byte)':' && line.StartsWith("data"u8) ? 4
            : line.Length >= 6 && line[5] == (byte)':' && line.StartsWith("event"u8) ? 5
            : line.IndexOf((byte)':');
        ReadOnlySpan<byte> name;
        ReadOnlySpan<byte> value;
        if (colon < 0)
        {
            name = line;
            value = default;
        }
        else
        {
            name = line[..colon];
            value = line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }
        }

        if (name.SequenceEqual("data"u8))
        {
            if (!_hasData && lineStart >= 0 && value.Length <= _maxEventBytes)
            {
                _inlineStart = lineStart + (line.Length - value.Length);
                _inlineLength = value.Length;
                _hasData = true;
                return;
            }

            if (_inlineStart >= 0)
            {
                MaterializeInline(chunk);
            }

            var needed = _dataLength + (_hasData ? 1 : 0) + value.Length;
            if (needed > _maxEventBytes)
            {
                StartDiscarding();
                return;
            }

            Ensure(ref _data, needed);
            if (_hasData)
            {
                _data[_dataLength++] = (byte)'\n';
                _multiLine = true;
            }

            value.CopyTo(_data.AsSpan(_dataLength));
            _dataLength += value.Length;
            _hasData = true;
        }
        else if (name.SequenceEqual("event"u8))
        {
            var len = Math.Min(value.Length, 256);
            Ensure(ref _type, len);
            _typeLength = len;
            if (lineStart >= 0)
            {
                _typeInlineStart = lineStart + (line.Length - value.Length);
            }
            else
            {
                _typeInlineStart = -1;
                value[..len].CopyTo(_type);
            }
        }
    }

    private void MaterializeInline(ReadOnlySpan<byte> chunk)
    {
        Ensure(ref _data, _inlineLength);
        chunk.Slice(_inlineStart, _inlineLength).CopyTo(_data);
        _dataLength = _inlineLength;
        _inlineStart = -1;
    }

    private void Dispatch(ISseEventSink sink) => Dispatch(sink, default);

    private void Dispatch(ISseEventSink sink, ReadOnlySpan<byte> chunk)
    {
        var wasDiscarding = _discarding;
        _discarding = false;
        if (_rawPassthrough)
        {
            // The oversized event's bytes were already forwarded; nothing is held for it.
            _rawPassthrough = false;
            ResetEvent();
            return;
        }

        if (!wasDiscarding && (_hasData || _captureRaw))
        {
            Events++;
            var data = _inlineStart >= 0 ? chunk.Slice(_inlineStart, _inlineLength) : _data.AsSpan(0, _dataLength);
            var type = _typeInlineStart >= 0 ? chunk.Slice(_typeInlineStart, _typeLength) : _type.AsSpan(0, _typeLength);
            sink.OnEvent(new SseEvent(type, data, _hasData, HeldRaw(chunk), _multiLine));
        }
        else if (wasDiscarding && _captureRaw && _rawLength > 0)
        {
            sink.OnPassthrough(HeldRaw(chunk));
        }

        ResetEvent();
    }

    private ReadOnlySpan<byte> HeldRaw(ReadOnlySpan<byte> chunk) =>
        _rawInlineStart >= 0 ? chunk.Slice(_rawInlineStart, _rawLength) : _raw.AsSpan(0, _rawLength);

    private void MaterializeRaw(ReadOnlySpan<byte> chunk)
    {
        Ensure(ref _raw, _rawLength);
        chunk.Slice(_rawInlineStart, _rawLength).CopyTo(_raw);
        _rawInlineStart = -1;
    }

    private void ResetEvent()
    {
        _inlineStart = -1;
        _typeInlineStart = -1;
        _rawInlineStart = -1;
        _dataLength = 0;
        _typeLength = 0;
        _rawLength = 0;
        _hasData = false;
        _multiLine = false;
    }

    private void StartDiscarding()
    {
        if (!_discarding)
        {
            _discarding = true;
            OversizedEvents++;
            _inlineStart = -1;
            _dataLength = 0;
            _hasData = false;
            _multiLine = false;
        }
    }

    private void AppendLine(ReadOnlySpan<byte> part)
    {
        if (_discarding)
        {
            return;
        }

        var needed = _lineLength + part.Length;
        if (needed > _maxEventBytes)
        {
            StartDiscarding();
            _discardingLine = true;
            _lineLength = 0;
            return;
        }

        Ensure(ref _line, needed);
        part.CopyTo(_line.AsSpan(_lineLength));
        _lineLength = needed;
    }

    /// <summary>Adds <c>chunk[start..(start + length)]</c> to the event's raw bytes (capture mode). An event that began in this read is
    /// held as offsets into it (its parts are contiguous), and copied only if it is still open when the read ends.</summary>
    private void AppendRaw(ReadOnlySpan<byte> chunk, int start, int length, ISseEventSink sink)
    {
        if (!_captureRaw || length == 0)
        {
            return;
        }

        var part = chunk.Slice(start, length);
        if (_rawPassthrough)
        {
            sink.OnPassthrough(part);
            return;
        }

        var needed = _rawLength + length;
        if (needed > _maxEventBytes + 4096)
        {
            // Fail open: forward what is held and stream the rest of this event through untouched.
            sink.OnPassthrough(HeldRaw(chunk));
            sink.OnPassthrough(part);
            _rawLength = 0;
            _rawInlineStart = -1;
            _rawPassthrough = true;
            StartDiscarding();
            return;
        }

        if (_rawLength == 0)
        {
            _rawInlineStart = start;
        }
        else if (_rawInlineStart < 0)
        {
            Ensure(ref _raw, needed);
            part.CopyTo(_raw.AsSpan(_rawLength));
        }

        _rawLength = needed;
    }

    private static void Ensure(ref byte[] buffer, int size)
    {
        if (buffer.Length >= size)
        {
            return;
        }

        var next = ArrayPool<byte>.Shared.Rent(Math.Max(size, Math.Max(256, buffer.Length * 2)));
        buffer.CopyTo(next, 0);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = next;
    }

    private static void Return(ref byte[] buffer)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = [];
    }
}

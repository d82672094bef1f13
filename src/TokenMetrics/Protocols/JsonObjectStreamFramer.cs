using System.Buffers;

namespace TokenMetrics;

/// <summary>Receives the objects framed by a <see cref="JsonObjectStreamFramer"/>.</summary>
internal interface IJsonObjectSink
{
    /// <summary>Called for each complete top-level JSON object; the span is valid only during the call.</summary>
    /// <param name="json">The object's bytes, from <c>{</c> to the matching <c>}</c>.</param>
    void OnObject(ReadOnlySpan<byte> json);
}

/// <summary>An incremental, push-style framer for a byte stream made of JSON objects: one object (a non-streamed body),
/// newline-delimited JSON (Ollama's <c>application/x-ndjson</c>), concatenated objects, or the elements of one top-level array
/// written as they are produced (Gemini's <c>streamGenerateContent</c> without <c>alt=sse</c>: <c>[{...},\r\n{...}]</c>).</summary>
/// <remarks>
/// <para>Works on bytes and keeps its state across reads, so a read may end anywhere: inside a string, an escape, a multi-byte
/// UTF-8 character or between the two bytes of <c>\r\n</c>. Only the ASCII bytes <c>"</c>, <c>\</c>, <c>{</c>, <c>}</c>,
/// <c>[</c> and <c>]</c> are structural, and none of them can occur inside a multi-byte UTF-8 sequence.</para>
/// <para>Between objects, whitespace, commas, array brackets and any other bytes are skipped: the framer finds objects, it does
/// not validate the stream. An object that lies wholly inside one read is passed as a slice of it, without copying.</para>
/// <para>An object larger than the limit is dropped (counted in <see cref="OversizedObjects"/>) and framing resumes after it:
/// metering fails open. An object left open at the end of the stream is not dispatched.</para>
/// </remarks>
internal sealed class JsonObjectStreamFramer : IDisposable
{
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StringSpecial = SearchValues.Create("\"\\"u8);

    private readonly int _maxObjectBytes;
    private byte[] _buffer = [];
    private int _length;
    private int _depth;
    private bool _inObject;
    private bool _inString;
    private bool _escape;
    private bool _discarding;

    /// <summary>Initializes a new instance of the <see cref="JsonObjectStreamFramer"/> class.</summary>
    /// <param name="maxObjectBytes">The largest object kept, in bytes.</param>
    public JsonObjectStreamFramer(int maxObjectBytes = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxObjectBytes, 2);
        _maxObjectBytes = maxObjectBytes;
    }

    /// <summary>Gets the number of objects dispatched.</summary>
    public long Objects { get; private set; }

    /// <summary>Gets the number of objects dropped because they were larger than the limit.</summary>
    public int OversizedObjects { get; private set; }

    /// <summary>Gets a value indicating whether an object is open (started and not yet closed).</summary>
    public bool InObject => _inObject;

    /// <summary>Frames the next bytes of the stream.</summary>
    /// <param name="chunk">The bytes, in stream order.</param>
    /// <param name="sink">Receives complete objects.</param>
    public void Feed(ReadOnlySpan<byte> chunk, IJsonObjectSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var pos = 0;
        var start = _inObject ? 0 : -1; // where the open object's bytes begin in this chunk
        while (pos < chunk.Length)
        {
            if (!_inObject)
            {
                var open = chunk[pos..].IndexOf((byte)'{');
                if (open < 0)
                {
                    return;
                }

                pos += open + 1;
                start = pos - 1;
                _inObject = true;
                _depth = 1;
                _length = 0;
                _discarding = false;
                continue;
            }

            if (_inString)
            {
                if (_escape)
                {
                    _escape = false;
                    pos++;
                    continue;
                }

                var k = chunk[pos..].IndexOfAny(StringSpecial);
                if (k < 0)
                {
                    pos = chunk.Length;
                    break;
                }

                pos += k;
                if (chunk[pos] == (byte)'\\')
                {
                    _escape = true;
                }
                else
                {
                    _inString = false;
                }

                pos++;
                continue;
            }

            var s = chunk[pos..].IndexOfAny(Structural);
            if (s < 0)
            {
                pos = chunk.Length;
                break;
            }

            pos += s;
            var b = chunk[pos++];
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                default:
                    if (--_depth == 0)
                    {
                        Close(chunk[start..pos], sink);
                        start = -1;
                    }

                    break;
            }
        }

        if (_inObject && start >= 0)
        {
            Keep(chunk[start..]);
        }
    }

    /// <summary>Signals the end of the stream. An object still open is incomplete and is dropped.</summary>
    public void Complete()
    {
        _inObject = false;
        _inString = false;
        _escape = false;
        _length = 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = [];
        _length = 0;
    }

    private void Close(ReadOnlySpan<byte> tail, IJsonObjectSink sink)
    {
        _inObject = false;
        if (_length == 0 && !_discarding)
        {
            if (tail.Length > _maxObjectBytes)
            {
                OversizedObjects++;
                return;
            }

            Objects++;
            sink.OnObject(tail);
            return;
        }

        Keep(tail);
        var discarded = _discarding;
        _discarding = false;
        var length = _length;
        _length = 0;
        if (!discarded)
        {
            Objects++;
            sink.OnObject(_buffer.AsSpan(0, length));
        }
    }

    private void Keep(ReadOnlySpan<byte> part)
    {
        if (_discarding)
        {
            return;
        }

        var needed = _length + part.Length;
        if (needed > _maxObjectBytes)
        {
            _discarding = true;
            _length = 0;
            OversizedObjects++;
            return;
        }

        if (_buffer.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(256, _buffer.Length * 2)));
            _buffer.AsSpan(0, _length).CopyTo(next);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = next;
        }

        part.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }
}

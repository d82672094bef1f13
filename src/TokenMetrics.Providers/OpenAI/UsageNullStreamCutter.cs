using System.Buffers;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Removes the top-level <c>"usage":null</c> member from server-sent events streamed through in pieces, without
/// holding the event: the stream-shaped twin of <see cref="JsonText.TryRemoveTopLevelNullProperty"/>, for events too large
/// to keep (any size; a 20 MB chunk costs no more memory than a small one).</summary>
/// <remarks>
/// <para>A small state machine follows the SSE lines (only <c>data:</c> values are JSON) and the JSON nesting and strings.
/// Only at depth 1 of a top-level object, outside strings, does it hold bytes back: a comma (and whitespace around it) that
/// may start <c>,"usage":null</c>, or a first member <c>"usage":null</c> and the comma after it. A held candidate is at most
/// a few dozen bytes; it is dropped when the member matches and written out unchanged when it does not. Everything else
/// passes through at once, byte for byte.</para>
/// <para>Removes what <see cref="JsonText.TryRemoveTopLevelNullProperty"/> removes: the first such member, only in a
/// single-line <c>data:</c> value, from the end of the previous value (or from the name, when first) through <c>null</c>
/// (and, when first, the whitespace and comma after it).</para>
/// </remarks>
internal sealed class UsageNullStreamCutter
{
    private const int MaxHeld = 128;
    private static readonly SearchValues<byte> StringStops = SearchValues.Create("\"\\\r\n"u8);
    private static readonly SearchValues<byte> DeepStops = SearchValues.Create("\"{}[]\r\n"u8);

    private readonly byte[] _held = new byte[MaxHeld + 16];
    private int _heldLength;

    private LineState _line = LineState.Start;
    private bool _afterCr;
    private int _nameLength;
    private bool _nameIsData;

    private int _depth;
    private bool _inString;
    private bool _escape;
    private bool _topIsObject;
    private bool _first;
    private bool _dataLines;   // a data line already ended in this event: multi-line values are left alone
    private bool _done;        // removed once in this event
    private Match _match;
    private int _matched;
    private bool _matchFirst;

    private enum LineState
    {
        Start,
        Name,
        AfterColon,
        Data,
        Skip,
    }

    private enum Verdict
    {
        Pass,
        Hold,
        Drop,
    }

    private enum Match
    {
        None,
        Ws,
        Comma,
        Key,
        KeyEnd,
        Colon,
        Null,
        AfterFirst,
    }

    /// <summary>Writes <paramref name="data"/> (the next raw bytes of the stream) to <paramref name="output"/>, less the member.</summary>
    /// <param name="data">Raw SSE bytes, in stream order.</param>
    /// <param name="output">Where the app's bytes go.</param>
    public void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var runStart = 0;
        var i = 0;
        while (i < data.Length)
        {
            var b = data[i];
            switch (_line)
            {
                case LineState.Start:
                    if (b == (byte)'\n' && _afterCr)
                    {
                        _afterCr = false;
                        i++;
                        continue;
                    }

                    _afterCr = false;
                    if (b is (byte)'\r' or (byte)'\n')
                    {
                        // A blank line: the event ends.
                        EndEvent();
                        _afterCr = b == (byte)'\r';
                        i++;
                        continue;
                    }

                    _line = LineState.Name;
                    _nameLength = 0;
                    _nameIsData = true;
                    continue; // this byte belongs to the name

                case LineState.Name:
                    if (b is (byte)'\r' or (byte)'\n')
                    {
                        EndLine(b);
                    }
                    else if (b == (byte)':')
                    {
                        _line = _nameIsData && _nameLength == 4 ? LineState.AfterColon : LineState.Skip;
                    }
                    else
                    {
                        _nameIsData &= _nameLength < 4 && b == "data"u8[_nameLength];
                        _nameLength++;
                    }

                    i++;
                    continue;

                case LineState.AfterColon:
                    _line = LineState.Data;
                    if (b == (byte)' ')
                    {
                        i++;
                    }

                    continue;

                case LineState.Skip:
                    {
                        var stop = data[i..].IndexOfAny((byte)'\r', (byte)'\n');
                        if (stop < 0)
                        {
                            i = data.Length;
                            continue;
                        }

                        i += stop;
                        EndLine(data[i]);
                        i++;
                        continue;
                    }
            }

            // A data value: JSON.
            if (_match == Match.None && (_inString || _depth != 1 || _done || _dataLines || !_topIsObject))
            {
                // Nothing to cut here: skip to the next byte that matters.
                var rest = data[i..];
                var stop = _inString ? (_escape ? 0 : rest.IndexOfAny(StringStops)) : rest.IndexOfAny(DeepStops);
                if (stop < 0)
                {
                    i = data.Length;
                    continue;
                }

                i += stop;
                b = data[i];
                if (b is (byte)'\r' or (byte)'\n')
                {
                    _dataLines = true;
                    EndLine(b);
                    i++;
                    continue;
                }

                Structural(b);
                i++;
                continue;
            }

            if (b is (byte)'\r' or (byte)'\n')
            {
                Flush(data, ref runStart, i, output);
                _match = Match.None;
                _dataLines = true;
                EndLine(b);
                i++;
                continue;
            }

            switch (Step(b))
            {
                case Verdict.Hold:
                    // The run so far goes out first, then this byte waits.
                    if (runStart < i)
                    {
                        output.Write(data[runStart..i]);
                    }

                    _held[_heldLength++] = b;
                    runStart = i + 1;
                    break;

                case Verdict.Drop:
                    // The member (and what goes with it) is cut: the held bytes were discarded, and so is this one.
                    if (runStart < i)
                    {
                        output.Write(data[runStart..i]);
                    }

                    runStart = i + 1;
                    break;

                default:
                    // A mismatch: what was held goes out unchanged, before this byte.
                    if (_heldLength > 0)
                    {
                        output.Write(_held.AsSpan(0, _heldLength));
                        _heldLength = 0;
                    }

                    Structural(b);
                    break;
            }

            i++;
        }

        if (runStart < data.Length)
        {
            output.Write(data[runStart..]);
        }
    }

    /// <summary>Writes anything held back (end of stream) and starts over.</summary>
    /// <param name="output">Where the app's bytes go.</param>
    public void Flush(IBufferWriter<byte> output)
    {
        if (_heldLength > 0)
        {
            output.Write(_held.AsSpan(0, _heldLength));
        }

        _heldLength = 0;
        _line = LineState.Start;
        _afterCr = false;
        EndEvent();
    }

    /// <summary>Advances the member matcher by one byte at depth 1 of the top-level object, outside strings.</summary>
    private Verdict Step(byte b)
    {
        var ws = b is (byte)' ' or (byte)'\t';
        var room = _heldLength < MaxHeld;
        switch (_match)
        {
            case Match.None:
                if (_first)
                {
                    if (ws)
                    {
                        return Verdict.Pass; // whitespace before the first name stays
                    }

                    if (b == (byte)'"')
                    {
                        return Begin(first: true);
                    }

                    return Miss();
                }

                if (ws || b == (byte)',')
                {
                    _match = ws ? Match.Ws : Match.Comma;
                    return Verdict.Hold;
                }

                return Verdict.Pass;

            case Match.Ws:
                if (ws && room)
                {
                    return Verdict.Hold;
                }

                if (b == (byte)',')
                {
                    _match = Match.Comma;
                    return Verdict.Hold;
                }

                return Miss();

            case Match.Comma:
                if (ws && room)
                {
                    return Verdict.Hold;
                }

                return b == (byte)'"' ? Begin(first: false) : Miss();

            case Match.Key:
                if (_matched < 5 ? b == "usage"u8[_matched] : b == (byte)'"')
                {
                    _matched++;
                    _match = _matched == 6 ? Match.KeyEnd : Match.Key;
                    return Verdict.Hold;
                }

                // Another name: its string is open, and this byte is part of it.
                Miss();
                _inString = true;
                _escape = false;
                return Verdict.Pass;

            case Match.KeyEnd:
                if (ws && room)
                {
                    return Verdict.Hold;
                }

                if (b == (byte)':')
                {
                    _match = Match.Colon;
                    return Verdict.Hold;
                }

                return Miss();

            case Match.Colon:
                if (ws && room)
                {
                    return Verdict.Hold;
                }

                if (b == (byte)'n')
                {
                    _match = Match.Null;
                    _matched = 1;
                    return Verdict.Hold;
                }

                return Miss();

            case Match.Null:
                if (b != "null"u8[_matched])
                {
                    return Miss();
                }

                if (++_matched < 4)
                {
                    return Verdict.Hold;
                }

                // "usage":null matched: cut it. A first member also takes the comma after it.
                _heldLength = 0;
                _match = _matchFirst ? Match.AfterFirst : Match.None;
                _done = !_matchFirst;
                return Verdict.Drop;

            case Match.AfterFirst:
                if (ws && room)
                {
                    return Verdict.Hold;
                }

                // The whitespace after null goes with it; so does a comma.
                _heldLength = 0;
                _match = Match.None;
                _done = true;
                return b == (byte)',' ? Verdict.Drop : Verdict.Pass;
        }

        return Verdict.Pass;
    }

    private Verdict Begin(bool first)
    {
        _match = Match.Key;
        _matched = 0;
        _matchFirst = first;
        _first = false;
        return Verdict.Hold;
    }

    private Verdict Miss()
    {
        _match = Match.None;
        _first = false;
        return Verdict.Pass;
    }

    private void Structural(byte b)
    {
        if (_inString)
        {
            if (_escape)
            {
                _escape = false;
            }
            else if (b == (byte)'\\')
            {
                _escape = true;
            }
            else if (b == (byte)'"')
            {
                _inString = false;
            }

            return;
        }

        switch (b)
        {
            case (byte)'"':
                _inString = true;
                _first = false;
                break;
            case (byte)'{':
            case (byte)'[':
                if (_depth++ == 0)
                {
                    _topIsObject = b == (byte)'{';
                    _first = _topIsObject;
                }
                else
                {
                    _first = false;
                }

                break;
            case (byte)'}':
            case (byte)']':
                _depth--;
                _first = false;
                break;
            default:
                if (b is not ((byte)' ' or (byte)'\t'))
                {
                    _first = false;
                }

                break;
        }
    }

    private void Flush(ReadOnlySpan<byte> data, ref int runStart, int at, IBufferWriter<byte> output)
    {
        if (runStart < at)
        {
            output.Write(data[runStart..at]);
        }

        runStart = at;
        if (_heldLength > 0)
        {
            output.Write(_held.AsSpan(0, _heldLength));
            _heldLength = 0;
        }
    }

    private void EndLine(byte terminator)
    {
        _line = LineState.Start;
        _afterCr = terminator == (byte)'\r';
    }

    private void EndEvent()
    {
        _depth = 0;
        _inString = _escape = _topIsObject = _first = _dataLines = _done = _matchFirst = false;
        _match = Match.None;
        _matched = 0;
    }
}

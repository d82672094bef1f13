using System.Buffers;

namespace TokenMetrics;

/// <summary>Skipping whole values, for fast paths that walk the members of a complete body instead of tokenizing all of it.</summary>
internal ref partial struct JsonCursor
{
    // What ends the plain run of a string: its closing quote, an escape, or a control character (never legal unescaped).
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"u8);

    /// <summary>Skips one value of any kind, checking it is well formed as strict JSON (RFC 8259 grammar: numbers, literals, escapes,
    /// no control characters in strings, no trailing commas) and nested no deeper than <paramref name="maxDepth"/>.</summary>
    /// <param name="maxDepth">The deepest nesting accepted; deeper values answer <see langword="false"/>.</param>
    /// <returns><see langword="false"/> on anything else: the caller then takes its full path, which gives the exact answer for
    /// odd input (a cut body, a lenient extension). UTF-8 inside strings is not checked here.</returns>
    public bool TrySkipValue(int maxDepth)
    {
        SkipWhitespace();
        if (_pos >= _json.Length)
        {
            return false;
        }

        switch (_json[_pos])
        {
            case (byte)'"':
                return TrySkipString();
            case (byte)'{':
                if (maxDepth <= 0)
                {
                    return false;
                }

                _pos++;
                if (Take((byte)'}'))
                {
                    return true;
                }

                do
                {
                    SkipWhitespace();
                    if (_pos >= _json.Length || _json[_pos] != (byte)'"' || !TrySkipString() || !Take((byte)':') || !TrySkipValue(maxDepth - 1))
                    {
                        return false;
                    }
                }
                while (Take((byte)','));

                return Take((byte)'}');
            case (byte)'[':
                if (maxDepth <= 0)
                {
                    return false;
                }

                _pos++;
                if (Take((byte)']'))
                {
                    return true;
                }

                do
                {
                    if (!TrySkipValue(maxDepth - 1))
                    {
                        return false;
                    }
                }
                while (Take((byte)','));

                return Take((byte)']');
            case (byte)'t':
                return TrySkipLiteral("true"u8);
            case (byte)'f':
                return TrySkipLiteral("false"u8);
            case (byte)'n':
                return TrySkipLiteral("null"u8);
            default:
                return TrySkipNumber();
        }
    }

    /// <summary>Reads a string value without escapes or control characters, for a value the caller keeps.</summary>
    /// <param name="value">The string's bytes, without quotes.</param>
    /// <returns><see langword="false"/> when the next value is anything else (the caller's full path unescapes).</returns>
    public bool TryReadStrictPlainString(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!Take((byte)'"'))
        {
            return false;
        }

        var end = _json[_pos..].IndexOfAny(StringStops);
        if (end < 0 || _json[_pos + end] != (byte)'"')
        {
            return false;
        }

        value = _json.Slice(_pos, end);
        _pos += end + 1;
        return true;
    }

    private bool TrySkipString()
    {
        _pos++; // the opening quote
        while (true)
        {
            var stop = _json[_pos..].IndexOfAny(StringStops);
            if (stop < 0)
            {
                return false;
            }

            _pos += stop;
            var b = _json[_pos];
            if (b == (byte)'"')
            {
                _pos++;
                return true;
            }

            if (b != (byte)'\\' || _pos + 1 >= _json.Length)
            {
                return false; // a control character, or a cut escape
            }

            var escaped = _json[_pos + 1];
            if (escaped is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
            {
                _pos += 2;
            }
            else if (escaped == (byte)'u' && _pos + 6 <= _json.Length && IsHex(_json[_pos + 2]) && IsHex(_json[_pos + 3]) && IsHex(_json[_pos + 4]) && IsHex(_json[_pos + 5]))
            {
                _pos += 6;
            }
            else
            {
                return false;
            }
        }
    }

    private bool TrySkipLiteral(ReadOnlySpan<byte> literal)
    {
        if (!_json[_pos..].StartsWith(literal))
        {
            return false;
        }

        _pos += literal.Length;
        return EndsNumber();
    }

    /// <summary>-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, then a delimiter.</summary>
    private bool TrySkipNumber()
    {
        if (_json[_pos] == (byte)'-')
        {
            _pos++;
        }

        if (_pos >= _json.Length || !IsDigit(_json[_pos]))
        {
            return false;
        }

        if (_json[_pos++] != (byte)'0')
        {
            SkipDigits();
        }

        if (_pos < _json.Length && _json[_pos] == (byte)'.')
        {
            _pos++;
            if (!SkipDigits())
            {
                return false;
            }
        }

        if (_pos < _json.Length && _json[_pos] is (byte)'e' or (byte)'E')
        {
            _pos++;
            if (_pos < _json.Length && _json[_pos] is (byte)'+' or (byte)'-')
            {
                _pos++;
            }

            if (!SkipDigits())
            {
                return false;
            }
        }

        return EndsNumber();
    }

    private bool SkipDigits()
    {
        var start = _pos;
        while (_pos < _json.Length && IsDigit(_json[_pos]))
        {
            _pos++;
        }

        return _pos > start;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsHex(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'f' - 'a';
}

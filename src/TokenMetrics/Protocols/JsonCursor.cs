namespace TokenMetrics;

/// <summary>A forward-only reader over a small, plain stretch of JSON (a usage object and the members after it), for fast
/// paths that read a few values without a full <see cref="System.Text.Json.Utf8JsonReader"/> pass.</summary>
/// <remarks>Every method answers <see langword="false"/> on anything it does not handle plainly (escaped names, fractions,
/// signs, nested values where a scalar is expected): the caller then takes its full, exact path. Whitespace is what JSON allows.</remarks>
internal ref partial struct JsonCursor
{
    private readonly ReadOnlySpan<byte> _json;
    private int _pos;

    /// <summary>Initializes a new instance of the <see cref="JsonCursor"/> struct.</summary>
    /// <param name="json">The bytes to read.</param>
    public JsonCursor(ReadOnlySpan<byte> json)
    {
        _json = json;
        _pos = 0;
        NumberStart = 0;
    }

    /// <summary>Gets the number of bytes read.</summary>
    public readonly int Position => _pos;

    /// <summary>Gets where the last number <see cref="TryReadCount"/> read starts.</summary>
    public int NumberStart { get; private set; }

    /// <summary>Gets the bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> Rest => _json[_pos..];

    /// <summary>Gets the next byte after whitespace (0 at the end), without consuming it.</summary>
    public byte Peek()
    {
        SkipWhitespace();
        return _pos < _json.Length ? _json[_pos] : (byte)0;
    }

    /// <summary>Consumes <paramref name="expected"/> after whitespace.</summary>
    /// <param name="expected">The structural byte.</param>
    /// <returns><see langword="true"/> when it was next.</returns>
    public bool Take(byte expected)
    {
        SkipWhitespace();
        if (_pos < _json.Length && _json[_pos] == expected)
        {
            _pos++;
            return true;
        }

        return false;
    }

    /// <summary>Whether only whitespace is left.</summary>
    public bool AtEnd()
    {
        SkipWhitespace();
        return _pos == _json.Length;
    }

    /// <summary>Reads a member name without escapes and the colon after it.</summary>
    /// <param name="name">The name's bytes.</param>
    /// <returns><see langword="false"/> when the name is not plain or no colon follows.</returns>
    public bool TryReadName(out ReadOnlySpan<byte> name)
    {
        name = default;
        if (!Take((byte)'"'))
        {
            return false;
        }

        var end = _json[_pos..].IndexOfAny((byte)'"', (byte)'\\');
        if (end < 0 || _json[_pos + end] != (byte)'"')
        {
            return false;
        }

        name = _json.Slice(_pos, end);
        _pos += end + 1;
        return Take((byte)':');
    }

    /// <summary>Reads a string value without escapes.</summary>
    /// <param name="value">The string's bytes, without quotes.</param>
    /// <returns><see langword="false"/> when the next value is not such a string.</returns>
    public bool TryReadPlainString(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!Take((byte)'"'))
        {
            return false;
        }

        var end = _json[_pos..].IndexOfAny((byte)'"', (byte)'\\');
        if (end < 0 || _json[_pos + end] != (byte)'"')
        {
            return false;
        }

        value = _json.Slice(_pos, end);
        _pos += end + 1;
        return true;
    }

    /// <summary>Reads a non-negative integer of at most 18 digits, as JSON writes it (no leading zero, no fraction or exponent).</summary>
    /// <param name="value">The number.</param>
    /// <returns><see langword="false"/> for anything else.</returns>
    public bool TryReadCount(out long value)
    {
        value = 0;
        SkipWhitespace();
        var start = _pos;
        NumberStart = start;
        while (_pos < _json.Length && (uint)(_json[_pos] - '0') <= 9)
        {
            value = (value * 10) + (_json[_pos] - '0');
            _pos++;
        }

        var digits = _pos - start;
        return digits is > 0 and <= 18 && !(digits > 1 && _json[start] == (byte)'0') && EndsNumber();
    }

    /// <summary>Skips a scalar value: a string (escapes allowed), a number, <c>true</c>, <c>false</c> or <c>null</c>.</summary>
    /// <returns><see langword="false"/> for objects, arrays and anything not well formed.</returns>
    public bool TrySkipScalar()
    {
        SkipWhitespace();
        if (_pos >= _json.Length)
        {
            return false;
        }

        var b = _json[_pos];
        if (b == (byte)'"')
        {
            var end = JsonText.FindStringEnd(_json, _pos + 1);
            if (end < 0)
            {
                return false;
            }

            _pos = end + 1;
            return true;
        }

        if (b is (byte)'t' or (byte)'f' or (byte)'n')
        {
            var literal = b == (byte)'t' ? "true"u8 : b == (byte)'f' ? "false"u8 : "null"u8;
            if (!_json[_pos..].StartsWith(literal))
            {
                return false;
            }

            _pos += literal.Length;
            return EndsNumber();
        }

        // A number: the characters a JSON number is made of.
        var start = _pos;
        while (_pos < _json.Length && _json[_pos] is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E')
        {
            _pos++;
        }

        return _pos > start && EndsNumber();
    }

    /// <summary>A value ends at whitespace, a comma, or the end of its object or array (or of the input).</summary>
    private readonly bool EndsNumber() =>
        _pos >= _json.Length || _json[_pos] is (byte)',' or (byte)'}' or (byte)']' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private void SkipWhitespace()
    {
        while (_pos < _json.Length && _json[_pos] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            _pos++;
        }
    }
}

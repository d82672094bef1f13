using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;

namespace TokenMetrics;

/// <summary>Small, allocation-light helpers over UTF-8 JSON for protocol implementations.</summary>
/// <remarks>All methods are tolerant: malformed input gives <see langword="false"/> or an empty result, never an exception.</remarks>
internal static class JsonText
{
    /// <summary>Finds a top-level property and returns its value's raw bytes.</summary>
    /// <param name="json">A JSON object.</param>
    /// <param name="propertyName">The property name (UTF-8, unescaped, exact).</param>
    /// <param name="value">The raw value (strings include their quotes).</param>
    /// <returns><see langword="true"/> when found.</returns>
    public static bool TryGetTopLevelValue(ReadOnlySpan<byte> json, ReadOnlySpan<byte> propertyName, out ReadOnlySpan<byte> value)
    {
        value = default;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    return false;
                }

                var match = reader.ValueTextEquals(propertyName);
                if (!reader.Read())
                {
                    return false;
                }

                if (match)
                {
                    var start = (int)reader.TokenStartIndex;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }

                    var end = (int)reader.BytesConsumed;
                    value = json[start..end];
                    return true;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    /// <summary>The text of a JSON string's content that has no escapes, or <see langword="null"/> when the bytes are not valid UTF-8
    /// (where <c>Utf8JsonReader.GetString</c> would throw): for fast paths, which then leave the value to their full path.</summary>
    /// <param name="utf8">The string's bytes, without quotes.</param>
    /// <returns>The text, or <see langword="null"/>.</returns>
    public static string? DecodeValidUtf8(ReadOnlySpan<byte> utf8) =>
        System.Text.Unicode.Utf8.IsValid(utf8) ? System.Text.Encoding.UTF8.GetString(utf8) : null;

    /// <summary>Reads a JSON string value (with quotes) or returns <see langword="null"/> for anything else.</summary>
    /// <param name="rawValue">The raw value bytes.</param>
    /// <returns>The unescaped string, or <see langword="null"/>.</returns>
    public static string? GetString(ReadOnlySpan<byte> rawValue)
    {
        if (rawValue.Length < 2 || rawValue[0] != (byte)'"')
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(rawValue);
            return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Reads the current number token as a non-negative count; fractional and out-of-range values give <see langword="null"/>.</summary>
    /// <param name="reader">A reader positioned on the value.</param>
    /// <returns>The count, or <see langword="null"/>.</returns>
    public static long? ReadCount(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetInt64(out var n) && n >= 0:
                return n;
            case JsonTokenType.Number when reader.TryGetDouble(out var d) && d >= 0 && d < long.MaxValue && Math.Floor(d) == d:
                return (long)d;
            case JsonTokenType.String:
                // Some gateways send counts as numeric strings.
                var s = reader.ValueSpan;
                return !reader.ValueIsEscaped && System.Buffers.Text.Utf8Parser.TryParse(s, out long v, out var used) && used == s.Length && v >= 0 ? v : null;
            default:
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }

                return null;
        }
    }

    /// <summary>Decodes concatenated fragments of JSON string content (escapes included), tolerating a cut at the end.</summary>
    /// <param name="escaped">The escaped UTF-8 content, without quotes.</param>
    /// <returns>The decoded text.</returns>
    public static string UnescapeFragments(ReadOnlySpan<byte> escaped)
    {
        if (escaped.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(escaped);
        }

        var sb = new StringBuilder(escaped.Length);
        var i = 0;
        while (i < escaped.Length)
        {
            var next = escaped[i..].IndexOf((byte)'\\');
            if (next < 0)
            {
                sb.Append(Encoding.UTF8.GetString(escaped[i..]));
                break;
            }

            sb.Append(Encoding.UTF8.GetString(escaped.Slice(i, next)));
            i += next;
            if (i + 1 >= escaped.Length)
            {
                break;
            }

            var c = escaped[i + 1];
            switch (c)
            {
                case (byte)'n': sb.Append('\n'); i += 2; break;
                case (byte)'r': sb.Append('\r'); i += 2; break;
                case (byte)'t': sb.Append('\t'); i += 2; break;
                case (byte)'b': sb.Append('\b'); i += 2; break;
                case (byte)'f': sb.Append('\f'); i += 2; break;
                case (byte)'u':
                    if (i + 6 <= escaped.Length && System.Buffers.Text.Utf8Parser.TryParse(escaped.Slice(i + 2, 4), out ushort code, out var used, 'X') && used == 4)
                    {
                        sb.Append((char)code);
                        i += 6;
                    }
                    else
                    {
                        i = escaped.Length;
                    }

                    break;
                default: sb.Append((char)c); i += 2; break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Finds the end of a JSON string's content that starts at <paramref name="start"/> (just after the opening quote).</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="start">The index just after the opening quote.</param>
    /// <returns>The index of the closing quote, or -1 when the string is not closed.</returns>
    public static int FindStringEnd(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (i < json.Length)
        {
            var k = json[i..].IndexOfAny((byte)'"', (byte)'\\');
            if (k < 0)
            {
                return -1;
            }

            i += k;
            if (json[i] == (byte)'"')
            {
                return i;
            }

            i += 2; // skip the escaped character
        }

        return -1;
    }

    /// <summary>Whether the quote at <paramref name="at"/> delimits a string, that is, is not escaped: in valid JSON a quote inside
    /// a string is always preceded by an odd run of backslashes, and a delimiting one by an even run (none outside strings).</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="at">The index of a <c>"</c>.</param>
    /// <returns><see langword="true"/> when the quote opens or closes a string.</returns>
    public static bool IsDelimiterQuote(ReadOnlySpan<byte> json, int at)
    {
        var i = at - 1;
        while (i >= 0 && json[i] == (byte)'\\')
        {
            i--;
        }

        return ((at - 1 - i) & 1) == 0;
    }

    /// <summary>Finds the first <paramref name="quotedName"/> (a name with its quotes, e.g. <c>"usage"</c>) whose opening quote
    /// delimits a string: in valid JSON that is a string with exactly this content, never bytes inside another string.</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="quotedName">The name with its quotes; no backslash inside.</param>
    /// <returns>The index of the opening quote, or -1.</returns>
    public static int IndexOfQuoted(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        // Searched without the closing quote: a needle that starts and ends with a quote matches at every pair of quotes that
        // far apart, and the vectorised search checks its first and last bytes first.
        var open = quotedName[..^1];
        var pos = 0;
        while (pos < json.Length)
        {
            var at = json[pos..].IndexOf(open);
            if (at < 0)
            {
                return -1;
            }

            at += pos;
            if (at + quotedName.Length <= json.Length && json[at + open.Length] == quotedName[^1] && IsDelimiterQuote(json, at))
            {
                return at;
            }

            pos = at + 1;
        }

        return -1;
    }

    /// <summary>Finds the last <paramref name="quotedName"/> whose opening quote delimits a string (see <see cref="IndexOfQuoted"/>).</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="quotedName">The name with its quotes; no backslash inside.</param>
    /// <returns>The index of the opening quote, or -1.</returns>
    public static int LastIndexOfQuoted(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        var end = json.Length;
        while (end > 0)
        {
            var at = json[..end].LastIndexOf(quotedName);
            if (at < 0 || IsDelimiterQuote(json, at))
            {
                return at;
            }

            end = at + quotedName.Length - 1;
        }

        return -1;
    }

    /// <summary>The quote that opens the string <paramref name="close"/> closes: the last delimiting quote before it (see
    /// <see cref="IsDelimiterQuote"/>); in valid JSON every quote between the two is escaped, so <see cref="FindStringEnd"/> from
    /// just after the result gives <paramref name="close"/> again.</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="close">The index of a <c>"</c>.</param>
    /// <returns>The index of the opening quote; -1 when <paramref name="close"/> does not delimit or none is found.</returns>
    public static int OpeningQuote(ReadOnlySpan<byte> json, int close) =>
        IsDelimiterQuote(json, close) ? LastIndexOfQuoted(json[..close], "\""u8) : -1;

    /// <summary>Finds, in one vectorised pass, the first place where a name that matters may start: a quote followed by one of
    /// the two-byte <paramref name="pairs"/> (the first two letters of each name), or a <c>\u</c> escape (which may spell a letter
    /// of one). The caller checks each hit exactly and resumes after it; most JSON text has none.</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="pairs">Up to eight names' first two letters, concatenated (e.g. <c>"fiprer"</c> for finishReason, promptFeedback, error).</param>
    /// <returns>The index of the quote or backslash, or -1.</returns>
    public static int IndexOfNameStart(ReadOnlySpan<byte> json, ReadOnlySpan<byte> pairs)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated && json.Length >= Vector256<byte>.Count + 2)
        {
            ref var start = ref MemoryMarshal.GetReference(json);
            var quote = Vector256.Create((byte)'"');
            var backslash = Vector256.Create((byte)'\\');
            var u = Vector256.Create((byte)'u');
            var last = json.Length - Vector256<byte>.Count - 2;
            while (true)
            {
                var v0 = Vector256.LoadUnsafe(ref start, (nuint)i);
                var v1 = Vector256.LoadUnsafe(ref start, (nuint)(i + 1));
                var hits = Vector256.Equals(v0, backslash) & Vector256.Equals(v1, u);
                var quotes = Vector256.Equals(v0, quote);
                if (quotes != Vector256<byte>.Zero)
                {
                    var v2 = Vector256.LoadUnsafe(ref start, (nuint)(i + 2));
                    var names = Vector256<byte>.Zero;
                    for (var p = 0; p + 1 < pairs.Length; p += 2)
                    {
                        names |= Vector256.Equals(v1, Vector256.Create(pairs[p])) & Vector256.Equals(v2, Vector256.Create(pairs[p + 1]));
                    }

                    hits |= quotes & names;
                }

                if (hits != Vector256<byte>.Zero)
                {
                    return i + BitOperations.TrailingZeroCount(hits.ExtractMostSignificantBits());
                }

                if (i == last)
                {
                    return -1;
                }

                i = Math.Min(i + Vector256<byte>.Count, last);
            }
        }

        for (; i + 1 < json.Length; i++)
        {
            var b = json[i];
            var next = json[i + 1];
            if (b == (byte)'\\' && next == (byte)'u')
            {
                return i;
            }

            if (b == (byte)'"' && i + 2 < json.Length)
            {
                for (var p = 0; p + 1 < pairs.Length; p += 2)
                {
                    if (next == pairs[p] && json[i + 2] == pairs[p + 1])
                    {
                        return i;
                    }
                }
            }
        }

        return -1;
    }

    /// <summary>Whether two byte runs of equal length are equal except where both have a decimal digit: then every run of digits
    /// (every number) is at the same place with the same length in both, and everything else is the same. Vectorised.</summary>
    /// <param name="a">The first bytes.</param>
    /// <param name="b">The second bytes.</param>
    /// <returns><see langword="true"/> when they differ in digits only.</returns>
    public static bool EqualExceptDigits(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var i = 0;
        if (Vector256.IsHardwareAccelerated && a.Length >= Vector256<byte>.Count)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var zero = Vector256.Create((byte)'0');
            var nine = Vector256.Create((byte)9);
            var last = a.Length - Vector256<byte>.Count;
            while (true)
            {
                var va = Vector256.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
                var differ = ~Vector256.Equals(va, vb);
                if (differ != Vector256<byte>.Zero)
                {
                    var digits = Vector256.LessThanOrEqual(va - zero, nine) & Vector256.LessThanOrEqual(vb - zero, nine);
                    if ((differ & ~digits) != Vector256<byte>.Zero)
                    {
                        return false;
                    }
                }

                if (i == last)
                {
                    return true;
                }

                i = Math.Min(i + Vector256<byte>.Count, last);
            }
        }

        for (; i < a.Length; i++)
        {
            if (a[i] != b[i] && !((uint)(a[i] - '0') <= 9 && (uint)(b[i] - '0') <= 9))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="json"/> may spell an ASCII letter with a <c>\u</c> escape (<c>\u0040</c>-<c>\u007F</c>, or a
    /// cut escape): such a name matches by its decoded text but not by its bytes, so byte searches for names are not conclusive.</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <returns><see langword="true"/> when such an escape (or something that may be one) occurs.</returns>
    public static bool MayHaveEscapedLetter(ReadOnlySpan<byte> json)
    {
        var pos = 0;
        while (true)
        {
            var at = json[pos..].IndexOf("\\u00"u8);
            if (at < 0)
            {
                return false;
            }

            at += pos;
            if (at + 5 >= json.Length || json[at + 4] is (byte)'4' or (byte)'5' or (byte)'6' or (byte)'7')
            {
                return true;
            }

            pos = at + 4;
        }
    }

    /// <summary>Finds a top-level <c>"name":null</c> member that is the last member of the object, written without whitespace
    /// between name and value (as OpenAI writes <c>,"usage":null}</c>), and what <see cref="TryRemoveTopLevelNullProperty"/> would
    /// cut: from the end of the previous value through <c>null</c>. Searches only from the end, and the text before for another
    /// member of that name, instead of reading the whole object.</summary>
    /// <param name="json">A JSON object.</param>
    /// <param name="quotedMember">The member as it is written, e.g. <c>"usage":null</c>.</param>
    /// <param name="cutStart">The first byte to drop.</param>
    /// <param name="cutEnd">The byte after the last one to drop.</param>
    /// <returns><see langword="false"/> when the member is not last, not written so, possibly not the first of that name (another
    /// string <c>"name"</c> before it, or a <c>\u</c> escape that may spell one), or first: the caller takes the full path.</returns>
    /// <remarks>In valid JSON the match is a top-level member: the only thing after it is the brace that ends the object (and
    /// whitespace), and its opening quote delimits a string. Unlike the full path, the text before it is not checked for validity.</remarks>
    public static bool TryFindLastNullProperty(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedMember, out int cutStart, out int cutEnd)
    {
        cutStart = cutEnd = 0;
        var end = SkipWhitespaceBack(json, json.Length);
        if (end == 0 || json[end - 1] != (byte)'}')
        {
            return false;
        }

        var memberEnd = SkipWhitespaceBack(json, end - 1);
        if (!json[..memberEnd].EndsWith(quotedMember))
        {
            return false;
        }

        var nameAt = memberEnd - quotedMember.Length;
        var comma = SkipWhitespaceBack(json, nameAt) - 1;
        if (comma <= 0 || json[comma] != (byte)',' || !IsDelimiterQuote(json, nameAt))
        {
            return false;
        }

        var previousEnd = SkipWhitespaceBack(json, comma);
        if (previousEnd == 0 || json[previousEnd - 1] is (byte)'{' or (byte)',')
        {
            return false;
        }

        // Another member of that name before it (a string "name" anywhere, or an escape that may spell one): the full path decides.
        var name = quotedMember[..(quotedMember.IndexOf((byte)':') + 1)];
        if (name.Length < 3 || name[^1] != (byte)':')
        {
            return false;
        }

        if (MayHaveQuotedName(json[..nameAt], name[..^1]))
        {
            return false;
        }

        cutStart = previousEnd;
        cutEnd = memberEnd;
        return true;
    }

    /// <summary>Whether <paramref name="json"/> may hold the string <paramref name="quotedName"/> (e.g. <c>"usage"</c>): a delimiting
    /// quote followed by it, or a <c>\u</c> escape that may spell a letter of it. One vectorised pass; most text has neither.</summary>
    /// <param name="json">The JSON bytes.</param>
    /// <param name="quotedName">The name with its quotes, at least two letters; no backslash inside.</param>
    /// <returns><see langword="false"/> when it certainly does not.</returns>
    public static bool MayHaveQuotedName(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        var pos = 0;
        while (pos < json.Length)
        {
            var hit = IndexOfNameStart(json[pos..], quotedName.Slice(1, 2));
            if (hit < 0)
            {
                return false;
            }

            hit += pos;
            var rest = json[hit..];
            if (rest[0] == (byte)'\\' ? MayHaveEscapedLetter(rest[..Math.Min(6, rest.Length)]) : rest.StartsWith(quotedName) && IsDelimiterQuote(json, hit))
            {
                return true;
            }

            pos = hit + 1;
        }

        return false;
    }

    private static int SkipWhitespaceBack(ReadOnlySpan<byte> json, int end)
    {
        while (end > 0 && json[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            end--;
        }

        return end;
    }

    /// <summary>Writes <paramref name="json"/> with every top-level property named <paramref name="propertyName"/> whose value is
    /// <c>null</c> removed, separators kept valid. Used to give the app exactly the bytes it would have had without an injected option.</summary>
    /// <param name="json">A JSON object.</param>
    /// <param name="propertyName">The property name.</param>
    /// <param name="output">Where to write the result.</param>
    /// <returns><see langword="true"/> when something was removed; otherwise nothing was written.</returns>
    public static bool TryRemoveTopLevelNullProperty(ReadOnlySpan<byte> json, ReadOnlySpan<byte> propertyName, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var previousValueEnd = (int)reader.BytesConsumed; // just after '{' or after the previous value
            var first = true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var match = reader.ValueTextEquals(propertyName);
                reader.Read();
                if (match && reader.TokenType == JsonTokenType.Null)
                {
                    var valueEnd = (int)reader.BytesConsumed;
                    if (!first)
                    {
                        // ...,"name":null  -> drop from the comma before it.
                        output.Write(json[..previousValueEnd]);
                        output.Write(json[valueEnd..]);
                    }
                    else
                    {
                        // {"name":null,...  -> drop through the comma after it.
                        var rest = json[valueEnd..];
                        var skip = 0;
                        while (skip < rest.Length && rest[skip] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                        {
                            skip++;
                        }

                        if (skip < rest.Length && rest[skip] == (byte)',')
                        {
                            skip++;
                        }

                        output.Write(json[..nameStart]);
                        output.Write(rest[skip..]);
                    }

                    return true;
                }

                reader.Skip();
                previousValueEnd = (int)reader.BytesConsumed;
                first = false;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}

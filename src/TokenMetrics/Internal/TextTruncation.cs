namespace TokenMetrics.Internal;

/// <summary>Bounds a recorded text value the way Higress ai-statistics does: the head and the tail are kept, the middle is
/// replaced by <see cref="Marker"/>, so both the start of a value and its end stay readable.</summary>
internal static class TextTruncation
{
    /// <summary>The text put where the middle was cut out.</summary>
    public const string Marker = " [truncated] ";

    /// <summary>The default limit, in characters (Higress <c>value_length_limit</c>).</summary>
    public const int DefaultLimit = 4000;

    /// <summary>Returns <paramref name="value"/> when it fits in <paramref name="limit"/> characters; otherwise its first
    /// <c>limit / 2</c> characters, <see cref="Marker"/> and its last <c>limit / 2</c> characters.</summary>
    /// <param name="value">The text.</param>
    /// <param name="limit">The largest length kept whole; 0 or less keeps every value whole.</param>
    /// <returns>The text, or its truncated form.</returns>
    public static string Truncate(string value, int limit = DefaultLimit)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (limit <= 0 || value.Length <= limit)
        {
            return value;
        }

        var half = limit / 2;
        return string.Concat(Head(value, half), Marker, Tail(value, half));
    }

    /// <summary>The first <paramref name="count"/> characters (fewer when that would split a surrogate pair).</summary>
    internal static ReadOnlySpan<char> Head(ReadOnlySpan<char> value, int count)
    {
        if (count >= value.Length)
        {
            return value;
        }

        return count > 0 && char.IsHighSurrogate(value[count - 1]) ? value[..(count - 1)] : value[..count];
    }

    /// <summary>The last <paramref name="count"/> characters (fewer when that would split a surrogate pair).</summary>
    internal static ReadOnlySpan<char> Tail(ReadOnlySpan<char> value, int count)
    {
        if (count >= value.Length)
        {
            return value;
        }

        var start = value.Length - count;
        return char.IsLowSurrogate(value[start]) ? value[(start + 1)..] : value[start..];
    }
}

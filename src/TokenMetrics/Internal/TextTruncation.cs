namespace TokenMetrics.Internal;

/// <summary>Cuts a long value in the middle, as Higress' ai-statistics does: the first limit/2 characters, the marker, the last limit/2.</summary>
internal static class TextTruncation
{
    /// <summary>What stands for the cut middle.</summary>
    public const string Marker = " [truncated] ";

    /// <summary>Returns <paramref name="value"/> unchanged when it has at most <paramref name="limit"/> characters, otherwise
    /// its first <c>limit/2</c> characters, <see cref="Marker"/> and its last <c>limit/2</c> characters.</summary>
    /// <param name="value">The text.</param>
    /// <param name="limit">The largest length kept unchanged.</param>
    /// <returns>The text, cut when too long.</returns>
    public static string Truncate(string value, int limit)
    {
        if (value.Length <= limit)
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

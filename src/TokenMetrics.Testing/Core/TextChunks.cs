using System.Text;

namespace TokenMetrics.Testing.Internal;

/// <summary>Deterministic splitting of answer text into streamed chunks.</summary>
internal static class TextChunks
{
    /// <summary>One chunk per word; every word but the first keeps its leading whitespace, like real token deltas.</summary>
    public static IReadOnlyList<string> SplitWords(string text)
    {
        var chunks = new List<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1]))
            {
                chunks.Add(text[start..i]);
                start = i;
            }
        }

        if (start < text.Length)
        {
            chunks.Add(text[start..]);
        }

        return chunks;
    }

    /// <summary>Splits into <paramref name="count"/> pieces of nearly equal length in runes (never inside a surrogate pair).</summary>
    public static IReadOnlyList<string> SplitEven(string text, int count)
    {
        var runes = new List<string>();
        foreach (var rune in text.EnumerateRunes())
        {
            runes.Add(rune.ToString());
        }

        count = Math.Clamp(count, 1, Math.Max(1, runes.Count));
        var chunks = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var from = (int)((long)runes.Count * i / count);
            var to = (int)((long)runes.Count * (i + 1) / count);
            chunks.Add(string.Concat(runes.GetRange(from, to - from)));
        }

        return chunks;
    }

    /// <summary>Repeats <paramref name="text"/> (space-separated) until it is at least <paramref name="bytes"/> UTF-8 bytes long.</summary>
    public static string PadTo(string text, int bytes)
    {
        if (text.Length == 0)
        {
            text = ResolvedScenario.DefaultAnswer;
        }

        var builder = new StringBuilder(text);
        var length = Encoding.UTF8.GetByteCount(text);
        var unit = Encoding.UTF8.GetByteCount(text) + 1;
        while (length < bytes)
        {
            builder.Append(' ').Append(text);
            length += unit;
        }

        return builder.ToString();
    }
}

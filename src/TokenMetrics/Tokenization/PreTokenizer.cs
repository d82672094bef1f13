using System.Runtime.CompilerServices;

namespace TokenMetrics.Internal;

/// <summary>The three published tiktoken split patterns, hand-written over valid UTF-8 with code-point semantics.</summary>
internal enum SplitPattern
{
    /// <summary>r50k_base, p50k_base (and gpt2).</summary>
    Gpt2,

    /// <summary>cl100k_base.</summary>
    Cl100k,

    /// <summary>o200k_base and o200k_harmony.</summary>
    O200k,
}

/// <summary>Finds where the regex piece starting at a position ends. Each method mirrors the leftmost-first alternation of
/// the published pattern, including the backtracking of <c>\s+(?!\S)</c> and o200k's case classes.</summary>
/// <remarks>.NET <c>Regex</c> matches UTF-16 units, so <c>\p{L}</c> misses letters outside the BMP; these work on code points.</remarks>
internal static class PreTokenizer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(SplitPattern pattern, ReadOnlySpan<byte> s, int i) => pattern switch
    {
        SplitPattern.Cl100k => NextCl100k(s, i),
        SplitPattern.O200k => NextO200k(s, i),
        _ => NextGpt2(s, i),
    };

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    public static int NextCl100k(ReadOnlySpan<byte> s, int i)
    {
        var c = CharClass.At(s, i, out var l0);
        var b0 = s[i];
        if (b0 == '\'')
        {
            var m = Contraction(s, i, ignoreCase: true);
            if (m > 0)
            {
                return i + m;
            }
        }

        if ((c & CharClass.Letter) != 0)
        {
            return Run(s, i + l0, CharClass.Letter);
        }

        var j = i + l0;
        if ((c & (CharClass.Letter | CharClass.Number | CharClass.Newline)) == 0 && j < s.Length)
        {
            var c1 = CharClass.At(s, j, out var l1);
            if ((c1 & CharClass.Letter) != 0)
            {
                return Run(s, j + l1, CharClass.Letter);
            }
        }

        if ((c & CharClass.Number) != 0)
        {
            return Digits3(s, j);
        }

        var p = Punctuation(s, i, b0, c, slash: false);
        return p > 0 ? p : Whitespace(s, i, newlineRule: true);
    }

    // Seven alternatives joined with |, see the design notes; [UP] = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], [LO] = [\p{Ll}\p{Lm}\p{Lo}\p{M}]:
    // P?[UP]*[LO]+C? | P?[UP]+[LO]*C? | \p{N}{1,3} | ' ?[^\s\p{L}\p{N}]+[\r\n/]*' | \s*[\r\n]+ | \s+(?!\S) | \s+   with P = [^\r\n\p{L}\p{N}].
    public static int NextO200k(ReadOnlySpan<byte> s, int i)
    {
        var c = CharClass.At(s, i, out var l0);
        var j = i + l0;

        // Fast path for the common ASCII word: lowercase run, or a space/punctuation then lowercase run.
        var canPrefix = (c & (CharClass.Letter | CharClass.Number | CharClass.Newline)) == 0;
        int e;
        if (canPrefix && j < s.Length)
        {
            e = CaseRun(s, j);
            if (e >= 0)
            {
                return Suffix(s, e);
            }
        }

        if ((c & (CharClass.Upper | CharClass.Lower)) != 0)
        {
            e = CaseRun(s, i);
            if (e >= 0)
            {
                return Suffix(s, e);
            }
        }

        // Second alternative: only an all-Lu/Lt run remains possible here (anything with [LO] matched above).
        if (canPrefix && j < s.Length && (CharClass.At(s, j, out _) & CharClass.Upper) != 0)
        {
            return Suffix(s, Run(s, Run(s, j, CharClass.Upper), CharClass.Lower));
        }

        if ((c & CharClass.Upper) != 0)
        {
            return Suffix(s, Run(s, Run(s, i, CharClass.Upper), CharClass.Lower));
        }

        if ((c & CharClass.Number) != 0)
        {
            return Digits3(s, j);
        }

        var p = Punctuation(s, i, s[i], c, slash: true);
        return p > 0 ? p : Whitespace(s, i, newlineRule: true);
    }

    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    public static int NextGpt2(ReadOnlySpan<byte> s, int i)
    {
        var b0 = s[i];
        if (b0 == '\'')
        {
            var m = Contraction(s, i, ignoreCase: false);
            if (m > 0)
            {
                return i + m;
            }
        }

        var start = i;
        if (b0 == ' ' && i + 1 < s.Length)
        {
            var c1 = CharClass.At(s, i + 1, out _);
            if ((c1 & (CharClass.Letter | CharClass.Number)) != 0)
            {
                start = i + 1; // " ?\p{L}+" or " ?\p{N}+" with the space
            }
            else if ((c1 & CharClass.Space) == 0)
            {
                return Run(s, i + 1, CharClass.Letter | CharClass.Number | CharClass.Space, invert: true);
            }
        }

        var c = CharClass.At(s, start, out _);
        if ((c & CharClass.Letter) != 0)
        {
            return Run(s, start, CharClass.Letter);
        }

        if ((c & CharClass.Number) != 0)
        {
            return Run(s, start, CharClass.Number);
        }

        if ((c & CharClass.Space) == 0)
        {
            return Run(s, start, CharClass.Letter | CharClass.Number | CharClass.Space, invert: true);
        }

        return Whitespace(s, i, newlineRule: false);
    }

    /// <summary>Length of a contraction at <paramref name="i"/> (which holds an apostrophe), or 0.</summary>
    /// <remarks>Case-insensitive matching follows Rust regex's simple case folding: only U+017F (long s) folds onto one of the letters.</remarks>
    internal static int Contraction(ReadOnlySpan<byte> s, int i, bool ignoreCase)
    {
        if (i + 1 >= s.Length)
        {
            return 0;
        }

        var fold = ignoreCase ? 0x20 : 0;
        var a = s[i + 1] | fold;
        if (a is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }

        if (i + 2 < s.Length)
        {
            var b = s[i + 2] | fold;
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            {
                return 3;
            }

            if (ignoreCase && s[i + 1] == 0xC5 && s[i + 2] == 0xBF)
            {
                return 3;
            }
        }

        return 0;
    }

    /// <summary>o200k's contraction suffix <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)?</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Suffix(ReadOnlySpan<byte> s, int e) => e < s.Length && s[e] == '\'' ? e + Contraction(s, e, ignoreCase: true) : e;

    /// <summary><c>[UP]*[LO]+</c> from <paramref name="p"/>: the end of the match, or -1.</summary>
    private static int CaseRun(ReadOnlySpan<byte> s, int p)
    {
        // Greedy [UP]* then backtrack to the last position where [LO]+ can start.
        var j = p;
        var lastLower = -1;
        var lastLowerLength = 0;
        while (j < s.Length)
        {
            var c = CharClass.At(s, j, out var l);
            if ((c & CharClass.Upper) == 0)
            {
                if ((c & CharClass.Lower) != 0)
                {
                    // Ll right after the [UP] run: [LO]+ takes the whole lower run.
                    return Run(s, j + l, CharClass.Lower);
                }

                break;
            }

            if ((c & CharClass.Lower) != 0)
            {
                lastLower = j;
                lastLowerLength = l;
            }

            j += l;
        }

        // Backtracked into the [UP] run: the next char after the last [LO] one is Lu/Lt (or the run's end), so [LO]+ is one char.
        return lastLower < 0 ? -1 : lastLower + lastLowerLength;
    }

    /// <summary><c> ?[^\s\p{L}\p{N}]+[\r\n]*</c> (or <c>[\r\n/]*</c>); 0 when it does not match.</summary>
    internal static int Punctuation(ReadOnlySpan<byte> s, int i, byte b0, byte c, bool slash)
    {
        const byte Stop = CharClass.Letter | CharClass.Number | CharClass.Space;
        int j;
        if ((c & Stop) == 0)
        {
            j = i;
        }
        else if (b0 == ' ' && i + 1 < s.Length && (CharClass.At(s, i + 1, out _) & Stop) == 0)
        {
            j = i + 1;
        }
        else
        {
            return 0;
        }

        j = Run(s, j, Stop, invert: true);
        while (j < s.Length && (s[j] is (byte)'\r' or (byte)'\n' || (slash && s[j] == '/')))
        {
            j++;
        }

        return j;
    }

    /// <summary><c>\s*[\r\n]+|\s+(?!\S)|\s+</c> (or without the first part) at a white-space char.</summary>
    private static int Whitespace(ReadOnlySpan<byte> s, int i, bool newlineRule)
    {
        var j = i;
        var lastNewline = -1;
        var lastStart = i;
        while (j < s.Length)
        {
            var c = CharClass.At(s, j, out var l);
            if ((c & CharClass.Space) == 0)
            {
                break;
            }

            if ((c & CharClass.Newline) != 0)
            {
                lastNewline = j;
            }

            lastStart = j;
            j += l;
        }

        if (newlineRule && lastNewline >= 0)
        {
            return lastNewline + 1;
        }

        // \s+(?!\S): all of it at the end of text, else all but the last char; a single char falls to \s+.
        return j == s.Length || lastStart == i ? j : lastStart;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Digits3(ReadOnlySpan<byte> s, int j)
    {
        for (var k = 0; k < 2 && j < s.Length; k++)
        {
            if ((CharClass.At(s, j, out var l) & CharClass.Number) == 0)
            {
                break;
            }

            j += l;
        }

        return j;
    }

    /// <summary>Advances over chars whose class intersects <paramref name="mask"/> (or, inverted, does not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Run(ReadOnlySpan<byte> s, int j, byte mask, bool invert = false)
    {
        while (j < s.Length)
        {
            var c = CharClass.At(s, j, out var l);
            if (((c & mask) != 0) == invert)
            {
                break;
            }

            j += l;
        }

        return j;
    }
}

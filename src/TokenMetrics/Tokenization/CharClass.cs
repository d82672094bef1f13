using System.Globalization;
using System.Runtime.CompilerServices;

namespace TokenMetrics.Internal;

/// <summary>Per-code-point classes the published tiktoken patterns test, as bit flags.</summary>
/// <remarks>Rust <c>regex</c> semantics: <c>\s</c> is Unicode White_Space (which is exactly what <see cref="char.IsWhiteSpace(char)"/>
/// tests; U+FEFF and U+200B are not in it), <c>\p{..}</c> are general categories of whole code points.</remarks>
internal static class CharClass
{
    /// <summary><c>\p{L}</c>.</summary>
    public const byte Letter = 1;

    /// <summary><c>\p{N}</c>.</summary>
    public const byte Number = 2;

    /// <summary><c>\s</c>.</summary>
    public const byte Space = 4;

    /// <summary><c>[\r\n]</c>.</summary>
    public const byte Newline = 8;

    /// <summary>o200k's <c>[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]</c>.</summary>
    public const byte Upper = 16;

    /// <summary>o200k's <c>[\p{Ll}\p{Lm}\p{Lo}\p{M}]</c>.</summary>
    public const byte Lower = 32;

    // One byte per BMP code point: 64 KB, built once; surrogates never reach it (UTF-8 input only).
    private static readonly byte[] Bmp = BuildBmp();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte OfBmp(int codePoint) => Bmp[codePoint];

    /// <summary>Classifies any scalar value.</summary>
    public static byte Of(int codePoint) => codePoint < 0x10000 ? Bmp[codePoint] : FromCategory(CharUnicodeInfo.GetUnicodeCategory(codePoint), false, false);

    /// <summary>Decodes the code point at <paramref name="i"/> of valid UTF-8 and returns its class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte At(ReadOnlySpan<byte> s, int i, out int length)
    {
        uint b = s[i];
        if (b < 0x80)
        {
            length = 1;
            return Bmp[b];
        }

        return AtMultiByte(s, i, out length);
    }

    private static byte AtMultiByte(ReadOnlySpan<byte> s, int i, out int length)
    {
        uint b = s[i];
        if (b < 0xE0)
        {
            length = 2;
            return Bmp[(int)(((b & 0x1F) << 6) | (s[i + 1] & 0x3Fu))];
        }

        if (b < 0xF0)
        {
            length = 3;
            return Bmp[(int)(((b & 0x0F) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu))];
        }

        length = 4;
        var cp = (int)(((b & 0x07) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu));
        return FromCategory(CharUnicodeInfo.GetUnicodeCategory(cp), false, false);
    }

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (var c = 0; c < table.Length; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            var ch = (char)c;
            table[c] = FromCategory(CharUnicodeInfo.GetUnicodeCategory(ch), char.IsWhiteSpace(ch), ch is '\r' or '\n');
        }

        return table;
    }

    private static byte FromCategory(UnicodeCategory category, bool whiteSpace, bool newline)
    {
        var cls = category switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter => Letter | Upper,
            UnicodeCategory.LowercaseLetter => Letter | Lower,
            UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter | Upper | Lower,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Upper | Lower,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            _ => 0,
        };
        if (whiteSpace)
        {
            cls |= Space;
        }

        if (newline)
        {
            cls |= Newline;
        }

        return (byte)cls;
    }
}

// Shared by the test projects (linked, not copied): see their .csproj files.
using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace TokenMetrics.Tests.Shared;

/// <summary>FsCheck generators shared by the property tests: text with multi-byte UTF-8, arbitrary JSON, cut points.</summary>
/// <remarks>FsCheck prints the seed of a failing run as <c>Falsifiable, after n tests (k shrinks) (a,b)</c>; replay it with <c>[Property(Replay = "(a,b)")]</c>.</remarks>
public static class PropertyGenerators
{
    /// <summary>Bits of text: ASCII, JSON-special characters, 2-, 3- and 4-byte UTF-8, a ZWJ emoji sequence.</summary>
    private static readonly string[] TextPieces =
    [
        "a", "Z", "7", " ", "  ", "\t", ":", ": ", "data", "event", "{", "}", "\"", "\\", "/", ",", "é", "ß", "Ω", "ж", "✅", "世界", "日本語",
        "€", "👩🏽‍💻", "🎉", "\u0301", "\u200B", "usage", "\"usage\":", "[DONE]", "x_tokens",
    ];

    /// <summary>Text without CR or LF (one SSE line's worth).</summary>
    public static Gen<string> LineText { get; } =
        Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Elements(TextPieces), n)).Select(string.Concat);

    /// <summary>Free text, line breaks included, for JSON strings.</summary>
    public static Gen<string> AnyText { get; } =
        Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Frequency((8, Gen.Elements(TextPieces)), (1, Gen.Elements("\n", "\r\n", "\r", "\u0001"))), n)).Select(string.Concat);

    /// <summary>JSON whitespace, often none.</summary>
    public static Gen<string> Whitespace { get; } =
        Gen.Frequency((3, Gen.Constant(string.Empty)), (1, Gen.Elements(" ", "\n", "\r\n", "\t", "  \n    ")));

    /// <summary>A token count as a vendor might write it: mostly an integer; sometimes <c>n.0</c>, an exponent or a numeric string,
    /// which the readers accept (<see cref="JsonText.ReadCount"/>). Below 2^40, so every form is exact.</summary>
    public static Gen<long> Count { get; } =
        Gen.Frequency((6, Gen.Choose(0, 5000).Select(i => (long)i)), (2, Gen.Choose(0, int.MaxValue).Select(i => (long)i)), (1, Gen.Choose(0, int.MaxValue).Select(i => (long)i * 511)));

    /// <summary>How a count is written in JSON.</summary>
    public static Gen<Func<long, string>> CountFormat { get; } =
        Gen.Frequency(
            (8, Gen.Constant<Func<long, string>>(n => n.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Constant<Func<long, string>>(n => n.ToString(CultureInfo.InvariantCulture) + ".0")),
            (1, Gen.Constant<Func<long, string>>(n => "\"" + n.ToString(CultureInfo.InvariantCulture) + "\"")));

    /// <summary>Any JSON value (bounded depth), written with random whitespace.</summary>
    public static Gen<string> JsonValue(int depth = 2)
    {
        var scalar = Gen.OneOf(
            AnyText.Select(JsonString),
            Gen.Choose(-1000, 100000).Select(i => i.ToString(CultureInfo.InvariantCulture)),
            Gen.Elements("true", "false", "null", "-0.5e-3", "1E+2"));
        if (depth <= 0)
        {
            return scalar;
        }

        var array = Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(JsonValue(depth - 1), n)).SelectMany(items => Whitespace.Select(ws => "[" + ws + string.Join("," + ws, items) + "]"));
        var obj = Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Gen.Zip(MemberName, JsonValue(depth - 1)), n))
            .SelectMany(members => Whitespace.Select(ws => "{" + ws + string.Join("," + ws, members.Select(m => JsonString(m.Item1) + ws + ":" + ws + m.Item2)) + ws + "}"));
        return Gen.Frequency((4, scalar), (1, array), (1, obj));
    }

    /// <summary>Names for extra members: never one the readers look for, and never ending in <c>_tokens</c>.</summary>
    public static Gen<string> MemberName { get; } =
        Gen.Elements("object", "created", "system_fingerprint", "service_tier", "x_meta", "choices_extra", "données", "名前", "candidatesExtra", "kind", "usage_note", "tokens");

    /// <summary>Sorted distinct cut offsets inside <c>[1, length)</c>, up to <c>length - 1</c> of them.</summary>
    public static Gen<int[]> Cuts(int length) =>
        length < 2
            ? Gen.Constant(Array.Empty<int>())
            : Gen.Choose(0, Math.Min(length - 1, 40)).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, length - 1), n)).Select(c => c.Distinct().Order().ToArray());

    /// <summary>Splits <paramref name="bytes"/> at <paramref name="cuts"/>.</summary>
    public static IEnumerable<byte[]> Split(byte[] bytes, int[] cuts)
    {
        var start = 0;
        foreach (var cut in cuts)
        {
            yield return bytes[start..cut];
            start = cut;
        }

        yield return bytes[start..];
    }

    /// <summary>A JSON string literal for <paramref name="text"/>, with some characters escaped as <c>\uXXXX</c>.</summary>
    public static string JsonString(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ' or 'é': sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Joins members <c>"name":value</c> into an object, with random whitespace.</summary>
    public static Gen<string> Object(IEnumerable<(string Name, string Value)> members) =>
        Whitespace.Select(ws => "{" + ws + string.Join("," + ws, members.Select(m => JsonString(m.Name) + ws + ":" + ws + m.Value)) + ws + "}");

    /// <summary>The given members in random order, mixed with up to three extra members of any value.</summary>
    public static Gen<List<(string Name, string Value)>> WithExtras(IEnumerable<(string Name, string Value)> members) =>
        Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Gen.Zip(MemberName, JsonValue()), n))
            .SelectMany(extras => Gen.Shuffle(members.Concat(extras.Select(e => (e.Item1, e.Item2))).ToArray()))
            .Select(all => all.ToList());
}

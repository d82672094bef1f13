using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>A deliberately simple tiktoken: the published patterns run by .NET Regex over a string in which every code point
/// is one UTF-16 char (non-BMP code points are replaced by a BMP stand-in of the same general category), and the naive BPE
/// loop over byte arrays. Slow, short, and independent of the production code; validated against the oracle goldens.</summary>
public sealed class ReferenceTokenizer
{
    // The published patterns, with (?i:...) spelled out as Rust's simple case folding does it (ſ folds to s).
    private const string Contractions = "'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";
    private const string Cl100k = "(?:" + Contractions + @")|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string O200k =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:" + Contractions + ")?" +
        @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:" + Contractions + ")?" +
        @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Dictionary<string, ReferenceTokenizer> Cache = [];

    private readonly Regex _regex;
    private readonly Dictionary<string, int> _ranks; // key: token bytes as Latin-1 chars

    private ReferenceTokenizer(string pattern, string data)
    {
        _regex = new Regex(pattern, RegexOptions.CultureInvariant);
        _ranks = LoadRanks(data);
    }

    public static ReferenceTokenizer Get(string encoding)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(encoding, out var reference))
            {
                reference = encoding switch
                {
                    "cl100k_base" => new ReferenceTokenizer(Cl100k, "cl100k_base"),
                    "o200k_base" => new ReferenceTokenizer(O200k, "o200k_base"),
                    "p50k_base" => new ReferenceTokenizer(Gpt2, "p50k_base"),
                    "r50k_base" => new ReferenceTokenizer(Gpt2, "r50k_base"),
                    _ => throw new ArgumentException(encoding),
                };
                Cache[encoding] = reference;
            }

            return reference;
        }
    }

    public List<string> Split(string text)
    {
        // One char per code point; remember where each code point starts in the original string.
        var proxy = new StringBuilder();
        var starts = new List<int>();
        for (var i = 0; i < text.Length;)
        {
            var rune = Rune.GetRuneAt(text, i);
            starts.Add(i);
            proxy.Append(rune.IsBmp ? (char)rune.Value : StandIn(Rune.GetUnicodeCategory(rune)));
            i += rune.Utf16SequenceLength;
        }

        starts.Add(text.Length);
        var pieces = new List<string>();
        foreach (Match m in _regex.Matches(proxy.ToString()))
        {
            pieces.Add(text[starts[m.Index]..starts[m.Index + m.Length]]);
        }

        return pieces;
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var piece in Split(text))
        {
            var bytes = Encoding.UTF8.GetBytes(piece);
            if (_ranks.TryGetValue(Key(bytes), out var whole))
            {
                ids.Add(whole);
                continue;
            }

            // Naive BPE: merge the adjacent pair whose concatenation has the lowest rank (leftmost on ties) until none has one.
            var parts = bytes.Select(b => new[] { b }).ToList();
            while (true)
            {
                var best = -1;
                var bestRank = int.MaxValue;
                for (var i = 0; i + 1 < parts.Count; i++)
                {
                    if (_ranks.TryGetValue(Key([.. parts[i], .. parts[i + 1]]), out var r) && r < bestRank)
                    {
                        bestRank = r;
                        best = i;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                parts[best] = [.. parts[best], .. parts[best + 1]];
                parts.RemoveAt(best + 1);
            }

            ids.AddRange(parts.Select(p => _ranks[Key(p)]));
        }

        return ids;
    }

    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'À',
        UnicodeCategory.LowercaseLetter => 'à',
        UnicodeCategory.TitlecaseLetter => 'ǅ',
        UnicodeCategory.ModifierLetter => 'ʰ',
        UnicodeCategory.OtherLetter => 'א',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '٠',
        UnicodeCategory.LetterNumber => 'Ⅰ',
        UnicodeCategory.OtherNumber => '²',
        _ => '§', // no supplementary code point is White_Space; everything else is "other" to the patterns
    };

    private static string Key(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    // The embedded format (see tools/tiktoken-data): deflate of [length byte, bytes] per rank; length 0 = no token.
    private static Dictionary<string, int> LoadRanks(string name)
    {
        using var stream = typeof(TiktokenEncoding).Assembly.GetManifestResourceStream($"TokenMetrics.Tokenization.Data.{name}.ranks.deflate")!;
        using var inflater = new DeflateStream(stream, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        inflater.CopyTo(buffer);
        var data = buffer.ToArray();
        var ranks = new Dictionary<string, int>();
        var rank = 0;
        for (var p = 0; p < data.Length; p += data[p] + 1, rank++)
        {
            if (data[p] > 0)
            {
                ranks.Add(Key(data[(p + 1)..(p + 1 + data[p])]), rank);
            }
        }

        return ranks;
    }
}

using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>FsCheck properties of the estimators. A failure prints the seed as <c>(a,b)</c>: replay it with
/// <c>[Property(Replay = "(a,b)")]</c>.</summary>
/// <remarks>
/// <para>"Monotone in appended text" (count(a+b) &gt;= count(a)) is NOT a property of tiktoken's BPE, so it is not asserted for
/// <see cref="TiktokenTokenEstimator"/>: appending can merge the end of <c>a</c> into fewer, longer tokens
/// (cl100k_base: " unbelievabl" is 3 tokens, " unbelievable" is 1), and joining can also cost more than the parts
/// (count(a+b) &gt; count(a) + count(b)); <see cref="Counterexamples_MonotonicityAndSubadditivityDoNotHoldForBpe"/> pins both.
/// No constant bounds either gap in general: how far the count moves depends on how long the last pre-token piece of
/// <c>a</c> is. What tiktoken does guarantee, and what is tested here: the count is never negative, is 0 only for empty text,
/// never exceeds the UTF-8 byte count (every token is at least one byte), and is additive (so monotone) where the
/// pre-tokenizer must split: after a letter, before a line break, no piece spans the join.</para>
/// <para>The heuristic estimator is a sum over characters, so it is monotone and it is tested for that.</para>
/// </remarks>
public class EstimatorProperties
{
    private const int Cases = 300;

    private static readonly string[] Pool = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(TestFiles.Dir, "fuzz-pool.json")))!;

    private static readonly string?[] Models = ["gpt-4o", "gpt-4", "gpt-3.5-turbo", "text-davinci-003", "o3-mini", "claude-sonnet-4-5", "gemini-2.5-flash", null, ""];

    /// <summary>Text from the fuzz pool (letters, digits, spaces, line breaks, contractions, CJK, emoji, marks), sometimes any
    /// code point, sometimes a lone surrogate.</summary>
    private static readonly Gen<string> Text = Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(
        Gen.Frequency(
            (20, Gen.Elements(Pool)),
            (2, Gen.Choose(0x20, 0x2FFFF).Where(cp => cp is < 0xD800 or > 0xDFFF).Select(char.ConvertFromUtf32)),
            (1, Gen.Elements("\uD800", "\uDFFF", "a\uDBFFz"))),
        n)).Select(string.Concat);

    private static readonly Gen<TiktokenEncoding> Encodings = Gen.Elements(TestFiles.Encodings.Select(TiktokenEncoding.GetEncoding).ToArray());

    [Property(MaxTest = Cases)]
    public Property CountText_IsNeverNegative_ZeroOnlyForEmpty_AndAtMostOnePerUtf8Byte() =>
        Prop.ForAll(Gen.Zip(Text, Gen.Elements(Models)).ToArbitrary(), input =>
        {
            var (text, model) = input;
            var estimate = TiktokenTokenEstimator.Instance.CountText(text, model);
            var heuristic = HeuristicTokenEstimator.Instance.CountText(text, model);
            return estimate.Tokens >= 0 && (estimate.Tokens == 0) == (text.Length == 0) && estimate.Tokens <= Encoding.UTF8.GetByteCount(text)
                && heuristic.Tokens >= 0 && (heuristic.Tokens == 0) == (text.Length == 0);
        });

    [Property(MaxTest = Cases)]
    public Property CountRequest_AnyBytes_NeverThrowsAndIsNeverNegative() =>
        Prop.ForAll(Gen.Zip(Gen.Zip(Text, Gen.Elements(Models)), Gen.Choose(0, 2), (tm, shape) => (tm.Item1, tm.Item2, shape)).ToArbitrary(), input =>
        {
            var (text, model, shape) = input;

            // Raw text, a truncated chat request and a whole one: the estimator must fence malformed JSON itself.
            var json = shape switch
            {
                0 => text,
                1 => "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":" + JsonSerializer.Serialize(text),
                _ => "{\"messages\":[{\"role\":\"user\",\"content\":" + JsonSerializer.Serialize(text) + "}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]}",
            };
            var bytes = Encoding.UTF8.GetBytes(json);
            return TiktokenTokenEstimator.Instance.CountRequest(bytes, model).Tokens >= 0 && HeuristicTokenEstimator.Instance.CountRequest(bytes, model).Tokens >= 0;
        });

    [Property(MaxTest = Cases)]
    public Property Tiktoken_IsAdditive_AndSoMonotone_AcrossAForcedPieceBoundary() =>
        Prop.ForAll(Gen.Zip(Gen.Zip(Text, Text), Encodings, (ab, encoding) => (ab.Item1, ab.Item2, encoding)).ToArbitrary(), input =>
        {
            // a ends with a letter, b starts with a line break: no pre-token piece of any encoding spans the join.
            var (left, right, encoding) = input;
            var a = left + "x";
            var b = "\n" + right;
            var joined = encoding.CountTokens(a + b);
            return joined == encoding.CountTokens(a) + encoding.CountTokens(b) && joined >= encoding.CountTokens(a);
        });

    [Property(MaxTest = Cases)]
    public Property Heuristic_IsMonotoneInAppendedText() =>
        Prop.ForAll(Gen.Zip(Text, Text).ToArbitrary(), input =>
        {
            var (a, b) = input;
            var ab = HeuristicTokenEstimator.Count(a + b);
            return ab >= HeuristicTokenEstimator.Count(a) && ab >= HeuristicTokenEstimator.Count(b) && ab <= HeuristicTokenEstimator.Count(a) + HeuristicTokenEstimator.Count(b);
        });

    [Fact]
    public void Counterexamples_MonotonicityAndSubadditivityDoNotHoldForBpe()
    {
        // Appending shrinks the count: the whole word is one vocabulary token, its prefix is not.
        var cl100k = TiktokenEncoding.Cl100kBase;
        Assert.Equal(3, cl100k.CountTokens(" unbelievabl"));
        Assert.Equal(1, cl100k.CountTokens(" unbelievable"));

        // Joining costs more than the parts: the join re-pieces both sides (found by a random search over the fuzz pool).
        var o200k = TiktokenEncoding.O200kBase;
        const string A = "'m\u06F3\u216B\u2764CamelCase";
        const string B = "don't\u0436";
        Assert.Equal(7, o200k.CountTokens(A));
        Assert.Equal(2, o200k.CountTokens(B));
        Assert.Equal(11, o200k.CountTokens(A + B));
    }
}

using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.Tokenizers;
using SharpToken;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>Ours, SharpToken 2.0.6 and Microsoft.ML.Tokenizers 3.0.0 on 4,000 generated strings (make-differential-goldens.js:
/// non-BMP letters and digits, long white-space runs, contractions) against the oracle's ids. Ours must equal the oracle
/// on every string; the peers' disagreements are recorded (test output and the README), and checked to be the known
/// kind: each involves a char outside the BMP.</summary>
public class PeerDifferentialTests(ITestOutputHelper output)
{
    private static readonly HashSet<string> NoSpecials = [];

    public static TheoryData<string> Encodings() => ["cl100k_base", "o200k_base"];

    [Theory]
    [MemberData(nameof(Encodings))]
    public void OursEqualsOracleAndPeerDisagreementsAreRecorded(string encodingName)
    {
        var ours = TiktokenEncoding.GetEncoding(encodingName);
        var sharp = GptEncoding.GetEncoding(encodingName);
        var ml = TiktokenTokenizer.CreateForEncoding(encodingName);
        var oursWrong = new List<string>();
        var peers = new Dictionary<string, List<(string Text, string Line)>> { ["SharpToken"] = [], ["Microsoft.ML.Tokenizers"] = [] };
        var n = 0;
        foreach (var record in TestFiles.JsonLines("goldens/differential.jsonl.gz"))
        {
            n++;
            var text = record.GetProperty("text").GetString()!;
            var expected = TestFiles.Ids(record.GetProperty(encodingName));
            var mine = ours.Encode(text);
            if (!mine.SequenceEqual(expected) || ours.CountTokens(text) != expected.Length)
            {
                oursWrong.Add(JsonSerializer.Serialize(text));
            }

            // Special-token text is ordinary text for the oracle (encode_ordinary); SharpToken is told so, Microsoft.ML.Tokenizers
            // has no such switch and encodes it as the special token.
            Check("SharpToken", sharp.Encode(text, allowedSpecial: null, disallowedSpecial: NoSpecials), sharp.CountTokens(text, allowedSpecial: null, disallowedSpecial: NoSpecials));
            Check("Microsoft.ML.Tokenizers", ml.EncodeToIds(text), ml.CountTokens(text));

            void Check(string peer, IReadOnlyList<int> ids, int count)
            {
                if (!ids.SequenceEqual(expected) || count != expected.Length)
                {
                    peers[peer].Add((text, $"{JsonSerializer.Serialize(text)}: oracle {expected.Length} tokens, {peer} {count}"));
                }
            }
        }

        Assert.Equal(4000, n);
        Assert.True(oursWrong.Count == 0, $"ours differs from the oracle on {oursWrong.Count}: {string.Join("\n", oursWrong.Take(5))}");
        foreach (var (peer, diffs) in peers)
        {
            output.WriteLine($"{encodingName}: {peer} disagrees with tiktoken on {diffs.Count} of {n} strings");
            foreach (var (_, line) in diffs.Take(5))
            {
                output.WriteLine("  " + line);
            }

            // The known cause: .NET Regex matches UTF-16 units, so \p{L} and \p{N} miss letters and digits outside the BMP.
            var nonBmp = diffs.Count(d => d.Text.Any(char.IsSurrogate));
            var special = diffs.Count(d => d.Text.Contains("<|endoftext|>", StringComparison.Ordinal));
            output.WriteLine($"  of which {nonBmp} contain a char outside the BMP, {special} contain <|endoftext|>");
            Assert.All(diffs, d => Assert.True(d.Text.Any(char.IsSurrogate) || d.Text.Contains("<|endoftext|>", StringComparison.Ordinal), d.Line));
        }
    }

    [Fact]
    public void MicrosoftMLAdapterCountsWithItsTokenizerAndOursStaysExact()
    {
        var adapter = MicrosoftMLTokenEstimator.ForEncodings("o200k_base");
        var ml = TiktokenTokenizer.CreateForEncoding("o200k_base");
        // " \U0001D7CFab": a non-BMP digit, where Regex-based tokenizers differ from tiktoken.
        const string Text = "Hello \U0001D7CFab \U00020000.t world";
        var estimate = adapter.CountText(Text, "gpt-4o");
        Assert.Equal(ml.CountTokens(Text), estimate.Tokens);
        Assert.Equal("o200k_base", estimate.Method);
        Assert.NotEqual(TiktokenTokenEstimator.Instance.CountText(Text, "gpt-4o").Tokens, estimate.Tokens);

        // cl100k has no Microsoft tokenizer in this adapter: ours counts it.
        Assert.Equal(TiktokenTokenEstimator.Instance.CountText(Text, "gpt-4"), adapter.CountText(Text, "gpt-4"));

        // The billing formula is shared: on BMP-only text both estimators agree exactly.
        var messages = new[] { new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "What's the weather in Zürich?") };
        Assert.Equal(TiktokenTokenEstimator.Instance.CountMessages(messages, null, "gpt-4o"), adapter.CountMessages(messages, null, "gpt-4o"));
        var json = """{"model":"gpt-4o","messages":[{"role":"user","content":"Hi there"}]}"""u8;
        Assert.Equal(TiktokenTokenEstimator.Instance.CountRequest(json, null), adapter.CountRequest(json, null));
    }

    [Fact]
    public void MicrosoftMLAdapterRejectsUnknownEncodingsAndRegistersInDependencyInjection()
    {
        Assert.Throws<ArgumentException>(() => new MicrosoftMLTokenEstimator(new Dictionary<string, MLTokenizer> { ["nope"] = TiktokenTokenizer.CreateForEncoding("o200k_base") }));

        var services = new ServiceCollection();
        services.AddTokenMetrics().UseMicrosoftMLTokenizers(new Dictionary<string, MLTokenizer> { ["o200k_base"] = TiktokenTokenizer.CreateForEncoding("o200k_base") });
        var registered = services.Last(d => d.ServiceType == typeof(ITokenEstimator));
        Assert.IsType<MicrosoftMLTokenEstimator>(registered.ImplementationInstance);
        Assert.Single(services, d => d.ServiceType == typeof(ITokenEstimator));
    }
}

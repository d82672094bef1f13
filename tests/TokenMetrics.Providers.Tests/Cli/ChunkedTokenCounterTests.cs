using System.Text;
using TokenMetrics.Cli;

namespace TokenMetrics.Providers.Tests.Cli;

/// <summary>The streaming counter of <c>tokenmetrics count</c>: cut only at safe places, its total equals counting the whole text.</summary>
public class ChunkedTokenCounterTests
{
    public static TheoryData<string> Encodings => new() { "o200k_base", "cl100k_base", "p50k_base", "r50k_base", "o200k_harmony" };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task SmallWindows_GiveTheWholeTextsCount(string name)
    {
        var encoding = TiktokenEncoding.GetEncoding(name);
        var random = new Random(11);
        string[] pieces = ["Hello", " world", "don't", " I'm", "\n", "\n\n", "  ", "\t", "/path/to", " 12345", "!!", " \"quoted\"", "中文字符", "naïve", " 🙂", "\r\n", "x\ny", ". Next", "CamelCase", " 's", "'ll"];
        for (var run = 0; run < 40; run++)
        {
            var text = new StringBuilder();
            while (text.Length < 3000)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }

            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            var counter = new ChunkedTokenCounter(encoding, readSize: 1 + random.Next(64), maxPiece: 4096);
            await counter.CountAsync(new MemoryStream(bytes), null, default);

            Assert.Equal(0, counter.ForcedCuts);
            Assert.Equal(encoding.CountTokens(bytes), counter.Tokens);
            Assert.Equal(bytes.Length, counter.Bytes);
        }
    }

    [Fact]
    public async Task AWordLongerThanTheBound_IsCut_AndSaysSo()
    {
        var encoding = TiktokenEncoding.GetEncoding("o200k_base");
        var bytes = Encoding.UTF8.GetBytes(new string('7', 30_000));
        var counter = new ChunkedTokenCounter(encoding, readSize: 1000, maxPiece: 4000);

        await counter.CountAsync(new MemoryStream(bytes), null, default);

        Assert.True(counter.ForcedCuts > 0);
        Assert.Equal(5000, counter.BufferBytes);
        Assert.InRange(counter.Tokens, encoding.CountTokens(bytes), encoding.CountTokens(bytes) + counter.ForcedCuts);
    }

    [Fact]
    public async Task ACutNeverSplitsAUtf8Sequence()
    {
        var encoding = TiktokenEncoding.GetEncoding("cl100k_base");
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("日本語", 5000)));
        var counter = new ChunkedTokenCounter(encoding, readSize: 777, maxPiece: 3001);

        await counter.CountAsync(new MemoryStream(bytes), null, default);

        // A split sequence would count as U+FFFD replacement tokens and inflate the total far beyond one token per cut.
        Assert.InRange(counter.Tokens, encoding.CountTokens(bytes) - counter.ForcedCuts, encoding.CountTokens(bytes) + (2 * counter.ForcedCuts));
    }
}

using System.Diagnostics;
using System.Text;

namespace TokenMetrics.Tokenizer.Tests;

public class EncodingApiTests
{
    [Theory]
    [InlineData("cl100k_base", "hello", 15339)]
    [InlineData("cl100k_base", " world", 1917)]
    [InlineData("cl100k_base", "Hello", 9906)]
    [InlineData("o200k_base", "hello", 24912)]
    [InlineData("o200k_base", " world", 2375)]
    public void KnownSingleTokens(string encodingName, string text, int id) =>
        Assert.Equal([id], TiktokenEncoding.GetEncoding(encodingName).Encode(text));

    [Fact]
    public void NonBmpLetterBeforePunctuationIsOneLetterPiece()
    {
        // The anchor's reproduction: regex-based .NET ports give 5 tokens here.
        Assert.Equal([172, 64319, 222, 739], TiktokenEncoding.Cl100kBase.Encode("\U00020000.t"));
        Assert.Equal([220, 57352, 253, 237, 370], TiktokenEncoding.Cl100kBase.Encode(" \U0001D7CFab"));
    }

    [Theory]
    [InlineData("cl100k_base", 100257)]
    [InlineData("o200k_base", 199999)]
    [InlineData("p50k_base", 50256)]
    [InlineData("r50k_base", 50256)]
    [InlineData("o200k_harmony", 199999)]
    public void SpecialTokensAreOrdinaryTextUnlessAllowed(string encodingName, int endOfText)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        const string Text = "a<|endoftext|>b";
        var ordinary = encoding.Encode(Text);
        Assert.DoesNotContain(endOfText, ordinary);
        Assert.True(ordinary.Length > 3);
        var special = encoding.Encode(Text, allowSpecialTokens: true);
        Assert.Equal([.. encoding.Encode("a"), endOfText, .. encoding.Encode("b")], special);
        Assert.Equal(3, encoding.CountTokens(Text, allowSpecialTokens: true));
        Assert.Equal(ordinary.Length, encoding.CountTokens(Text));
        Assert.Equal(Text, encoding.Decode(special));
    }

    [Fact]
    public void HarmonySharesO200kRanksAndAddsChatFormatTokens()
    {
        var harmony = TiktokenEncoding.GetEncoding("o200k_harmony");
        Assert.Equal(TiktokenEncoding.O200kBase.Encode("hello world"), harmony.Encode("hello world"));
        Assert.Equal([200006, 200008, 200007], harmony.Encode("<|start|><|message|><|end|>", allowSpecialTokens: true));
        Assert.Equal(201088, harmony.VocabularySize);
    }

    [Fact]
    public void InvalidUtf8AndLoneSurrogatesCountAsReplacementChar()
    {
        var encoding = TiktokenEncoding.O200kBase;
        Assert.Equal(encoding.Encode("a\uFFFDb"), encoding.EncodeUtf8([(byte)'a', 0xFF, (byte)'b']));
        Assert.Equal(encoding.CountTokens("a\uFFFDb"), encoding.CountTokens([(byte)'a', 0xC3, (byte)'b']));
        Assert.Equal(encoding.Encode("x\uFFFDy"), encoding.Encode("x\uD800y"));
    }

    [Fact]
    public void UnknownNamesAndIdsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => TiktokenEncoding.GetEncoding("nope"));
        Assert.False(TiktokenEncoding.TryGetEncoding("nope", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => TiktokenEncoding.Cl100kBase.Decode([100256 + 5000]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TiktokenEncoding.GetEncoding("p50k_base").Decode([-1]));
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    [InlineData("p50k_base")]
    public void LongPieces_CountEqualsEncode_AndRoundTrip(string encodingName)
    {
        // 100 KB without spaces: one piece each (the long-piece encoder). Their speed is a benchmark's business
        // (TokenizerPathologicalBenchmark), not a timed test's.
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var random = new Random(1);
        var letters = new string([.. Enumerable.Range(0, 100_000).Select(_ => (char)('a' + random.Next(26)))]);
        var cjk = new string([.. Enumerable.Range(0, 34_000).Select(_ => (char)(0x4E00 + random.Next(2000)))]);
        var punctuation = new string([.. Enumerable.Range(0, 100_000).Select(_ => "!#$%&*+-=?@^~"[random.Next(13)])]);
        foreach (var text in new[] { letters, cjk, punctuation, new string('a', 100_000), new string(' ', 100_000) })
        {
            var ids = encoding.Encode(text);
            var count = encoding.CountTokens(text);
            Assert.Equal(ids.Length, count);
            Assert.Equal(text, encoding.Decode(ids));
        }

        // The long-piece merge agrees with the simple one, checked on a length just above the switch-over (128 bytes).
        var medium = letters[..3000];
        Assert.Equal(ReferenceTokenizer.Get(encodingName).Encode(medium), encoding.Encode(medium));
        var mediumCjk = cjk[..400];
        Assert.Equal(ReferenceTokenizer.Get(encodingName).Encode(mediumCjk), encoding.Encode(mediumCjk));
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void CountAllocatesNothingAfterWarmUp(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var text = string.Concat(Enumerable.Repeat("Hello, wörld! 你好，世界 \U00020000 emoji 👩‍👩‍👧 12345 ", 2000)) + new string('x', 500);
        var utf8 = Encoding.UTF8.GetBytes(text);
        var small = "short text";
        encoding.CountTokens(text);
        encoding.CountTokens(utf8);
        encoding.CountTokens(small);
        // The least of three rounds: a pooled buffer that a gen-2 GC trimmed from ArrayPool.Shared (it trims under memory
        // pressure, as on a loaded CI machine) is re-allocated once, while an allocation per count shows in every round.
        var total = 0;
        var allocated = long.MaxValue;
        for (var round = 0; round < 3 && allocated != 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10; i++)
            {
                total += encoding.CountTokens(text) + encoding.CountTokens(utf8) + encoding.CountTokens(small);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ConcurrentFirstUseLoadsOnce()
    {
        var results = new int[16];
        Parallel.For(0, results.Length, i => results[i] = TiktokenEncoding.GetEncoding("r50k_base").CountTokens("hello world, concurrently"));
        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Same(TiktokenEncoding.GetEncoding("r50k_base"), TiktokenEncoding.GetEncoding("R50K_BASE"));
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void PieceCacheIsExactUnderConcurrencyAndCollisions(string encodingName)
    {
        // More distinct multi-byte pieces than the piece cache has slots, twice over, from several threads at once: every
        // result must equal the reference whether a piece hit, filled or lost its slot.
        string[] parts = ["😀", "🎉", "👍🏽", "❤️", "🚀", "🇩🇪", "✨", "😂", "🙏", "🤔", "ü", "é", "ß", "你", "好", "z", "q", "!"];
        var random = new Random(7);
        var sb = new StringBuilder();
        for (var i = 0; i < 12_000; i++)
        {
            sb.Append(' ');
            for (var k = random.Next(2, 5); k > 0; k--)
            {
                sb.Append(parts[random.Next(parts.Length)]);
            }
        }

        var text = sb.ToString();
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var expected = ReferenceTokenizer.Get(encodingName).Encode(text);
        var results = new int[4][];
        var counts = new int[4];
        Parallel.For(0, 4, t =>
        {
            results[t] = encoding.Encode(text);
            counts[t] = encoding.CountTokens(text);
        });
        Assert.All(results, r => Assert.Equal(expected, r));
        Assert.All(counts, c => Assert.Equal(expected.Count, c));
        Assert.Equal(expected, encoding.Encode(text));
    }
}

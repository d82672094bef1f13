using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>The linear-time BPE for long pieces and the bounded-memory stream counter: both must give exactly what the merge
/// loop and a whole-text count give, and the oracle's ids on inputs without split points.</summary>
public class LinearAndStreamingTests(ITestOutputHelper output)
{
    private static readonly string[] Pool = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(TestFiles.Dir, "fuzz-pool.json")))!;

    public static TheoryData<string> Encodings() => [.. TestFiles.Encodings];

    [Theory]
    [MemberData(nameof(Encodings))]
    public void LinearBpeEqualsMergeLoopOnWholeStrings(string encodingName)
    {
        // Whole strings as one piece (no pre-tokenizer): far more varied merges than real pieces, including across spaces.
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var random = new Random(20261205);
        var failures = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            var text = RandomText(random, maxParts: i < 300 ? 24 : 400);
            var bytes = Encoding.UTF8.GetBytes(text);
            var merge = encoding.EncodeAsOnePieceMerge(bytes);
            var linear = encoding.EncodeAsOnePieceLinear(bytes);
            if (!merge.SequenceEqual(linear) || encoding.CountAsOnePieceLinear(bytes) != merge.Length)
            {
                failures.Add($"{JsonSerializer.Serialize(text)}: merge [{string.Join(",", merge)}] linear [{string.Join(",", linear)}]");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} differ, e.g.\n{string.Join("\n", failures.Take(5))}");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void LinearBpeEqualsMergeLoopOnALongWord(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var random = new Random(7);
        var word = new byte[200_000];
        for (var i = 0; i < word.Length; i++)
        {
            word[i] = (byte)"abcdefghijklmnopqrstuvwxyz"[random.Next(i % 3 == 0 ? 26 : 4)];
        }

        Assert.Equal(encoding.EncodeAsOnePieceMerge(word), encoding.EncodeAsOnePieceLinear(word));
        Assert.Equal(encoding.EncodeAsOnePieceMerge(word).Length, encoding.CountTokens(word));
    }

    public static TheoryData<string, string> Pathological()
    {
        var data = new TheoryData<string, string>();
        foreach (var record in TestFiles.JsonLines("goldens/pathological.jsonl.gz"))
        {
            foreach (var encoding in new[] { "cl100k_base", "o200k_base" })
            {
                data.Add(record.GetProperty("name").GetString()!, encoding);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pathological))]
    public async Task PathologicalInputsMatchOracle(string name, string encodingName)
    {
        var record = TestFiles.JsonLines("goldens/pathological.jsonl.gz").Single(r => r.GetProperty("name").GetString() == name);
        var text = record.GetProperty("text").GetString()!;
        var expected = record.GetProperty(encodingName);
        var tokens = expected.GetProperty("tokens").GetInt64();
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var bytes = Encoding.UTF8.GetBytes(text);

        var ids = encoding.Encode(text);
        Assert.Equal(expected.GetProperty("sha256").GetString(), TestFiles.HashIds(ids));
        Assert.Equal(tokens, encoding.CountTokens(text));
        Assert.Equal(tokens, encoding.CountTokens(bytes));
        Assert.Equal(tokens, await encoding.CountTokensAsync(new MemoryStream(bytes)));
        foreach (var window in new[] { 512, 1000, 4096 })
        {
            Assert.Equal(tokens, CountStreamed(encoding, bytes, window, new Random(window)));
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void StreamedCountEqualsWholeCountOnRandomText(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var failures = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            var text = RandomText(random, maxParts: 200, longRuns: true);
            var bytes = Encoding.UTF8.GetBytes(text);
            var expected = encoding.CountTokens(bytes);
            var window = random.Next(2) == 0 ? 512 : random.Next(512, 3000);
            var streamed = CountStreamed(encoding, bytes, window, random);
            var chars = CountStreamedChars(encoding, text, window, random);
            if (streamed != expected || chars != expected)
            {
                failures.Add($"window {window}: whole {expected}, bytes {streamed}, chars {chars}: {JsonSerializer.Serialize(text.Length > 400 ? text[..400] + "..." : text)}");
            }
        }

        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} differ, e.g.\n{string.Join("\n", failures.Take(5))}");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void StreamedCountEqualsWholeCountOnCorpus(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        foreach (var file in new[] { "english.txt", "chinese.txt", "code.txt", "json.txt", "multilingual.txt", "edge-cases.txt" })
        {
            var bytes = TestFiles.Corpus(file);
            Assert.Equal(encoding.CountTokens(bytes), CountStreamed(encoding, bytes, 512, new Random(1)));
        }
    }

    [Fact]
    public void StreamCounterReplacesInvalidUtf8AndLoneSurrogatesAsAWholeCountDoes()
    {
        var encoding = TiktokenEncoding.O200kBase;
        byte[] bytes = [.. "abc "u8, 0xE2, 0x82, .. "x "u8, 0xF0, 0x9F, 0x98, 0x80, 0xFF, .. " end"u8, 0xE2];
        for (var split = 0; split <= bytes.Length; split++)
        {
            var counter = encoding.CreateStreamCounter();
            counter.Append(bytes.AsSpan(0, split));
            counter.Append(bytes.AsSpan(split));
            Assert.Equal(encoding.CountTokens(bytes), counter.Complete());
        }

        var text = "a\uD83D\uDE00b\uD800c";
        for (var split = 0; split <= text.Length; split++)
        {
            var counter = encoding.CreateStreamCounter();
            counter.Append(text.AsSpan(0, split));
            counter.Append(text.AsSpan(split));
            Assert.Equal(encoding.CountTokens(text), counter.Complete());
        }
    }

    [Fact]
    public async Task TextReaderCountEqualsWholeCount()
    {
        var text = string.Concat(Enumerable.Repeat("Hello 世界 😀, don't stop\r\n", 5000)) + new string('z', 100_000);
        Assert.Equal(TiktokenEncoding.Cl100kBase.CountTokens(text), await TiktokenEncoding.Cl100kBase.CountTokensAsync(new StringReader(text)));
    }

    private static long CountStreamed(TiktokenEncoding encoding, byte[] bytes, int window, Random random)
    {
        var counter = encoding.CreateStreamCounter(window);
        for (var at = 0; at < bytes.Length;)
        {
            var n = Math.Min(bytes.Length - at, random.Next(1, 700));
            counter.Append(bytes.AsSpan(at, n));
            at += n;
        }

        return counter.Complete();
    }

    private static long CountStreamedChars(TiktokenEncoding encoding, string text, int window, Random random)
    {
        var counter = encoding.CreateStreamCounter(window);
        for (var at = 0; at < text.Length;)
        {
            var n = Math.Min(text.Length - at, random.Next(1, 300));
            counter.Append(text.AsSpan(at, n));
            at += n;
        }

        return counter.Complete();
    }

    private static readonly string[] Runs = ["a", "Z", "中", "😀", " ", "\n", " \n", "\t", "7", "'s", "/", "ab", "aB", "Aé", "\u0301", "\U0001D7CF", "\U00020000", "+/", "=", "\r\n", "\u3000"];

    private static string RandomText(Random random, int maxParts, bool longRuns = false)
    {
        var sb = new StringBuilder();
        var n = random.Next(1, maxParts + 1);
        for (var k = 0; k < n; k++)
        {
            if (longRuns && random.Next(12) == 0)
            {
                var unit = Runs[random.Next(Runs.Length)];
                sb.Insert(sb.Length, unit, random.Next(100, 1500));
            }
            else
            {
                sb.Append(Pool[random.Next(Pool.Length)]);
            }
        }

        return sb.ToString();
    }
}

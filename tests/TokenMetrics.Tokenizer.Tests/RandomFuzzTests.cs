using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>20,000 fresh random strings per run, checked against <see cref="ReferenceTokenizer"/>. The seed is logged;
/// set TOKENMETRICS_FUZZ_SEED to replay a run.</summary>
public class RandomFuzzTests(ITestOutputHelper output)
{
    private const int Strings = 20_000;

    private static readonly string[] Pool = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(TestFiles.Dir, "fuzz-pool.json")))!;

    [Fact]
    public void FreshRandomStringsMatchReference()
    {
        var seed = Environment.GetEnvironmentVariable("TOKENMETRICS_FUZZ_SEED") is { Length: > 0 } s
            ? int.Parse(s, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"fuzz seed {seed} (replay with TOKENMETRICS_FUZZ_SEED={seed})");
        var random = new Random(seed);
        var failures = new List<string>();
        for (var i = 0; i < Strings; i++)
        {
            var text = RandomText(random);
            // Each string on one encoding, rotating, plus cl100k and o200k on all: 20,000 checks on each of those two.
            foreach (var name in new[] { "cl100k_base", "o200k_base", TestFiles.Encodings[2 + (i % 2)] })
            {
                var expected = ReferenceTokenizer.Get(name).Encode(text);
                var encoding = TiktokenEncoding.GetEncoding(name);
                var actual = encoding.Encode(text);
                if (!expected.SequenceEqual(actual) || encoding.CountTokens(text) != actual.Length || encoding.CountTokens(Encoding.UTF8.GetBytes(text)) != actual.Length)
                {
                    failures.Add($"{name} {JsonSerializer.Serialize(text)}: reference [{string.Join(",", expected)}] ours [{string.Join(",", actual)}]");
                }
            }
        }

        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} differ, e.g.\n{string.Join("\n", failures.Take(10))}");
    }

    private static string RandomText(Random random)
    {
        var sb = new StringBuilder();
        var n = random.Next(1, 33);
        for (var k = 0; k < n; k++)
        {
            // Mostly the pool; sometimes any scalar value, so categories beyond the pool get exercised too.
            if (random.Next(16) == 0)
            {
                int cp;
                do
                {
                    cp = random.Next(2) == 0 ? random.Next(0x20, 0x3000) : random.Next(0x10000, 0x32000);
                }
                while (cp is >= 0xD800 and <= 0xDFFF);
                sb.Append(char.ConvertFromUtf32(cp));
            }
            else
            {
                sb.Append(Pool[random.Next(Pool.Length)]);
            }
        }

        return sb.ToString();
    }
}

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>20,000 fixed-seed random strings (make-goldens.js) with the oracle's ids; checks the production tokenizer and the
/// reference implementation that the per-run fuzz relies on.</summary>
public class OracleFuzzTests
{
    public static TheoryData<string> Encodings() => [.. TestFiles.Encodings];

    [Theory]
    [MemberData(nameof(Encodings))]
    public void GeneratedStringsMatchOracle(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var failures = new List<string>();
        var n = 0;
        foreach (var record in TestFiles.JsonLines("goldens/fuzz.jsonl.gz"))
        {
            n++;
            var text = record.GetProperty("text").GetString()!;
            var expected = TestFiles.Ids(record.GetProperty(encodingName));
            var actual = encoding.Encode(text);
            if (!expected.SequenceEqual(actual) || encoding.CountTokens(text) != expected.Length)
            {
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
            }
        }

        Assert.Equal(20_000, n);
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} differ, e.g.\n{string.Join("\n", failures.Take(10))}");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void ReferenceImplementationMatchesOracle(string encodingName)
    {
        var reference = ReferenceTokenizer.Get(encodingName);
        var failures = new List<string>();
        foreach (var record in TestFiles.JsonLines("goldens/fuzz.jsonl.gz").Concat(TestFiles.JsonLines("goldens/cases.jsonl")))
        {
            var text = record.GetProperty("text").GetString()!;
            var expected = TestFiles.Ids(record.GetProperty(encodingName));
            var actual = reference.Encode(text);
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} differ, e.g.\n{string.Join("\n", failures.Take(10))}");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void NamedCasesMatchOracle(string encodingName)
    {
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        foreach (var record in TestFiles.JsonLines("goldens/cases.jsonl"))
        {
            var text = record.GetProperty("text").GetString()!;
            var expected = TestFiles.Ids(record.GetProperty(encodingName));
            Assert.True(expected.SequenceEqual(encoding.Encode(text)), $"case {record.GetProperty("name").GetString()}");
            Assert.Equal(expected.Length, encoding.CountTokens(text));
        }
    }
}

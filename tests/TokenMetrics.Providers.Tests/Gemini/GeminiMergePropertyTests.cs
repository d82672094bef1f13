using System.Globalization;
using System.Text;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Rewriting;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Gemini;

/// <summary>FM-04: Gemini's usageMetadata is cumulative; the merge must be "last value per field", independent of chunking.</summary>
public class GeminiMergePropertyTests(ITestOutputHelper output)
{
    [Fact]
    public void CumulativeUsage_LastValueWins_SummingWouldFail()
    {
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            var prompt = random.Next(1, 5000);
            var thoughts = random.Next(0, 500);
            var chunks = random.Next(2, 12);
            var candidates = 0;
            var body = new StringBuilder();
            long summedOutput = 0;
            for (var c = 0; c < chunks; c++)
            {
                candidates += random.Next(1, 50);
                var last = c == chunks - 1;
                body.Append(CultureInfo.InvariantCulture, $"data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"x\"}}]}}{(last ? ",\"finishReason\":\"STOP\"" : string.Empty)}}}],")
                    .Append(CultureInfo.InvariantCulture, $"\"usageMetadata\":{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{candidates},\"thoughtsTokenCount\":{thoughts},\"totalTokenCount\":{prompt + candidates + thoughts}}}}}\r\n\r\n");
                summedOutput += candidates + thoughts;
            }

            var bytes = Encoding.UTF8.GetBytes(body.ToString());
            var cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(1, bytes.Length)).Order().ToArray();
            var reader = Support.VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), bytes, cuts);
            var usage = reader.Usage!;
            Assert.Equal(prompt, usage.InputTokenCount);
            Assert.Equal(candidates + thoughts, usage.OutputTokenCount);
            Assert.Equal(prompt + candidates + thoughts, usage.TotalTokenCount);

            // The property discriminates: a summing merge gives a different (inflated) answer for every multi-chunk stream.
            Assert.NotEqual(summedOutput, usage.OutputTokenCount);
            Assert.NotEqual(prompt * (long)chunks, usage.InputTokenCount);
        }
    }

    [Fact]
    public void FieldMissingFromALaterChunk_KeepsItsEarlierValue()
    {
        var a = new GeminiUsage { Prompt = 10, Candidates = 3, Thoughts = 7, Total = 20 };
        var b = new GeminiUsage { Candidates = 5, Total = 22 };
        var merged = a.MergeLatest(b).ToTokenUsage()!;
        Assert.Equal(10, merged.InputTokenCount);
        Assert.Equal(12, merged.OutputTokenCount);
        Assert.Equal(22, merged.TotalTokenCount);
    }

    /// <summary>A chunk's detail map replaces the previous one whole (reused when equal, rebuilt when it differs, shrinks or grows),
    /// whatever the chunking.</summary>
    [Theory]
    [InlineData("[TEXT:100,IMAGE:20]|[TEXT:100,IMAGE:20]|[TEXT:100]", "prompt.TEXT=100")]
    [InlineData("[TEXT:100]|[TEXT:100,IMAGE:20]", "prompt.TEXT=100;prompt.IMAGE=20")]
    [InlineData("[TEXT:100,IMAGE:20]|[TEXT:100,IMAGE:25]", "prompt.TEXT=100;prompt.IMAGE=25")]
    [InlineData("[TEXT:100,IMAGE:20]|[IMAGE:20,TEXT:100]", "prompt.IMAGE=20;prompt.TEXT=100")]
    [InlineData("[TEXT:100,IMAGE:20]|-|[TEXT:100,IMAGE:20]", "prompt.TEXT=100;prompt.IMAGE=20")]
    [InlineData("[TEXT:100,IMAGE:20]|-", "prompt.TEXT=100;prompt.IMAGE=20")]
    [InlineData("[TEXT:100,TEXT:90]|[TEXT:90]", "prompt.TEXT=90")]
    public void PromptDetails_TheLastChunkThatHasThemWins(string chunks, string expected)
    {
        var body = new StringBuilder();
        var parts = chunks.Split('|');
        for (var c = 0; c < parts.Length; c++)
        {
            var details = parts[c] == "-" ? string.Empty : ",\"promptTokensDetails\":[" + string.Join(',', parts[c].Trim('[', ']').Split(',').Select(e =>
                "{\"modality\":\"" + e.Split(':')[0] + "\",\"tokenCount\":" + e.Split(':')[1] + "}")) + "]";
            body.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}").Append(c == parts.Length - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty)
                .Append("}],\"usageMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":").Append(c + 1).Append(details).Append("}}\r\n\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        foreach (var cut in new[] { 0, 7, bytes.Length / 2 })
        {
            var reader = Support.VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), bytes, cut == 0 ? [] : [cut]);
            var actual = reader.Usage!.InputTokenDetails!.Where(d => d.Key.StartsWith("prompt.", StringComparison.Ordinal)).Select(d => d.Key + "=" + d.Value.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(expected, string.Join(';', actual));
        }
    }
}

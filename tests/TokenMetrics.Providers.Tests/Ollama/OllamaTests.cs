using System.Globalization;
using System.Text;
using TokenMetrics.Providers.Ollama;
using TokenMetrics.Providers.Tests.Support;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Ollama;

public class OllamaTests(ITestOutputHelper output)
{
    private static Func<TokenUsageResponseReader> Create => () => new OllamaResponseReader(1 << 20);

    [Theory]
    [InlineData("ollama/chat-stream.ndjson", 26, 17)]
    [InlineData("ollama/generate-stream.ndjson", 26, 259)]
    [InlineData("ollama/chat.json", 122, 27)]
    public void Counts_FromTheDoneLine(string fixture, long input, long outputTokens)
    {
        var reader = VendorHarness.Run(Create, VendorHarness.Load(fixture));
        Assert.Equal(input, reader.Usage!.InputTokenCount);
        Assert.Equal(outputTokens, reader.Usage.OutputTokenCount);
        Assert.True(reader.Completed);
        Assert.NotNull(reader.ResponseModel);
    }

    [Fact]
    public void StreamWithoutDoneLine_IsTruncated_WithoutUsage()
    {
        var text = Encoding.UTF8.GetString(VendorHarness.Load("ollama/chat-stream.ndjson"));
        var lines = text.Split('\n');
        var reader = VendorHarness.Run(Create, Encoding.UTF8.GetBytes(lines[0] + "\n" + lines[1] + "\n"));
        Assert.False(reader.Completed);
        Assert.Null(reader.Usage);
    }

    [Fact]
    public void ErrorLine_IsAnError()
    {
        var reader = VendorHarness.Run(Create, "{\"error\":\"model 'x' not found\"}"u8.ToArray());
        Assert.Equal("error", reader.ErrorType);
    }

    [Theory]
    [InlineData("ollama/chat-stream.ndjson")]
    [InlineData("ollama/generate-stream.ndjson")]
    public void EverySplit_GivesIdenticalExtraction(string fixture) =>
        VendorHarness.AssertSplitInvariant(Create, VendorHarness.Load(fixture), output);

    [Fact]
    public void MergeProperty_CountsComeOnce_OnlyTheDoneLineCounts()
    {
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var i = 0; i < 300; i++)
        {
            var body = new StringBuilder();
            var lines = random.Next(1, 10);
            for (var l = 0; l < lines; l++)
            {
                body.Append("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"é\"},\"done\":false}\n");
            }

            var p = random.Next(1, 1000);
            var e = random.Next(1, 1000);
            body.Append(CultureInfo.InvariantCulture, $"{{\"model\":\"m\",\"done\":true,\"prompt_eval_count\":{p},\"eval_count\":{e}}}\n");
            var bytes = Encoding.UTF8.GetBytes(body.ToString());
            var cuts = Enumerable.Range(0, random.Next(0, 5)).Select(_ => random.Next(1, bytes.Length)).Order().ToArray();
            var usage = VendorHarness.Run(Create, bytes, cuts).Usage!;
            Assert.Equal(p, usage.InputTokenCount);
            Assert.Equal(e, usage.OutputTokenCount);
        }
    }

    [Theory]
    [InlineData("http://localhost:11434/api/chat", true)]
    [InlineData("http://127.0.0.1:11434/api/generate", true)]
    [InlineData("http://gpu-box:11434/api/embed", true)]
    [InlineData("http://localhost:8080/api/chat", false)]
    public void Detection(string url, bool expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        Assert.Equal(expected, OllamaTokenMetricsBuilderExtensions.CreateOllamaProtocol().CanHandle(request));
    }
}

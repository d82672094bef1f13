using System.Globalization;
using System.Text;
using TokenMetrics.Providers.DashScope;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.DashScope;

public class DashScopeTests(ITestOutputHelper output)
{
    private static Func<TokenUsageResponseReader> Sse => () => new DashScopeResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true);

    [Fact]
    public void NonStreamed_ReasoningInsideOutput()
    {
        var reader = VendorHarness.Run(() => new DashScopeResponseReader(DocumentFraming.Objects, 1 << 20, streaming: false), VendorHarness.Load("dashscope/generation.json"));
        Assert.Equal(22, reader.Usage!.InputTokenCount);
        Assert.Equal(38, reader.Usage.OutputTokenCount);
        Assert.Equal(30, reader.Usage.ReasoningTokenCount);
        Assert.Equal(60, reader.Usage.TotalTokenCount);
        Assert.Equal("a1b2c3d4-0000-1111-2222-333344445555", reader.ResponseId);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void Stream_CumulativeUsage_FinishReasonNullStringIsNotTerminal()
    {
        var body = VendorHarness.Load("dashscope/stream-sse.txt");
        var reader = VendorHarness.Run(Sse, body);
        Assert.Equal(22, reader.Usage!.InputTokenCount);
        Assert.Equal(9, reader.Usage.OutputTokenCount);
        Assert.Equal(31, reader.Usage.TotalTokenCount);
        Assert.Equal(16, reader.Usage.CachedInputTokenCount);
        Assert.True(reader.Completed);

        var text = Encoding.UTF8.GetString(body);
        var cut = VendorHarness.Run(Sse, Encoding.UTF8.GetBytes(text[..text.LastIndexOf("id:3", StringComparison.Ordinal)]));
        Assert.False(cut.Completed);
        Assert.Equal(8, cut.Usage!.OutputTokenCount);
    }

    [Fact]
    public void StreamErrorEvent_IsAnError()
    {
        var reader = VendorHarness.Run(Sse, VendorHarness.Load("dashscope/stream-error.txt"));
        Assert.Equal("Throttling.RateQuota", reader.ErrorType);
    }

    [Fact]
    public void EverySplit_GivesIdenticalExtraction() =>
        VendorHarness.AssertSplitInvariant(Sse, VendorHarness.Load("dashscope/stream-sse.txt"), output);

    [Fact]
    public void MergeProperty_CumulativeOutputTokens_LastWins()
    {
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var iteration = 0; iteration < 500; iteration++)
        {
            var input = random.Next(1, 3000);
            var chunks = random.Next(2, 10);
            var outputTokens = 0;
            long summed = 0;
            var body = new StringBuilder();
            for (var c = 0; c < chunks; c++)
            {
                outputTokens += random.Next(1, 20);
                summed += outputTokens;
                var finish = c == chunks - 1 ? "stop" : "null";
                body.Append(CultureInfo.InvariantCulture, $"id:{c + 1}\nevent:result\n:HTTP_STATUS/200\ndata:{{\"output\":{{\"choices\":[{{\"message\":{{\"content\":\"x\",\"role\":\"assistant\"}},\"finish_reason\":\"{finish}\"}}]}},\"usage\":{{\"total_tokens\":{input + outputTokens},\"output_tokens\":{outputTokens},\"input_tokens\":{input}}},\"request_id\":\"r\"}}\n\n");
            }

            var bytes = Encoding.UTF8.GetBytes(body.ToString());
            var cuts = Enumerable.Range(0, random.Next(0, 5)).Select(_ => random.Next(1, bytes.Length)).Order().ToArray();
            var usage = VendorHarness.Run(Sse, bytes, cuts).Usage!;
            Assert.Equal(input, usage.InputTokenCount);
            Assert.Equal(outputTokens, usage.OutputTokenCount);
            Assert.NotEqual(summed, usage.OutputTokenCount);
        }
    }

    [Theory]
    [InlineData("https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation", true)]
    [InlineData("https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation", true)]
    [InlineData("https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions", false)]
    public void Detection(string url, bool expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        Assert.Equal(expected, DashScopeTokenMetricsBuilderExtensions.CreateDashScopeProtocol().CanHandle(request));
    }
}

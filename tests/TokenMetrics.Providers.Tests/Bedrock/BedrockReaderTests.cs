using System.Text;
using TokenMetrics.Providers.Bedrock;
using Xunit.Abstractions;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.Bedrock;

public class BedrockReaderTests(ITestOutputHelper output)
{
    [Fact]
    public void Converse_Basic()
    {
        var reader = Feed(new BedrockConverseJsonReader(1 << 20, "req-1"), Bytes("bedrock", "converse.json"), []);

        Assert.Equal(10, reader.Usage!.InputTokenCount);
        Assert.Equal(15, reader.Usage.OutputTokenCount);
        Assert.Equal(25, reader.Usage.TotalTokenCount);
        Assert.Equal("req-1", reader.ResponseId);
        Assert.True(reader.Completed);
        Assert.Equal("end_turn", reader.StopReason);
    }

    [Fact]
    public void Converse_CacheCountsAreOutsideInputTokens_AndAreNormalisedIn()
    {
        var reader = Feed(new BedrockConverseJsonReader(1 << 20, null), Bytes("bedrock", "converse-cache.json"), []);

        Assert.Equal(14 + 1800 + 200, reader.Usage!.InputTokenCount);
        Assert.Equal(1800, reader.Usage.CachedInputTokenCount);
        Assert.Equal(200, reader.Usage.CacheWriteInputTokenCount);
        Assert.Equal(9, reader.Usage.OutputTokenCount);
        Assert.Equal(2014 + 9, reader.Usage.TotalTokenCount);
        Assert.Equal(23, reader.Usage.InputTokenDetails!["totalTokens"]);
        Assert.Equal(14, reader.Usage.InputTokenDetails["inputTokens"]);
    }

    [Fact]
    public void ConverseStream_MetadataUsage_StopReason_TextForEstimates()
    {
        var reader = Feed(new BedrockConverseStreamReader("req-2"), EventStream("converse-stream.jsonl"), []);

        Assert.Equal(375 + 1024, reader.Usage!.InputTokenCount);
        Assert.Equal(1024, reader.Usage.CachedInputTokenCount);
        Assert.Equal(56, reader.Usage.OutputTokenCount);
        Assert.Equal("tool_use", reader.StopReason);
        Assert.True(reader.Completed);
        Assert.Equal("req-2", reader.ResponseId);
        Assert.Contains("日本語 and emoji 🎉", reader.OutputText.GetText(out _), StringComparison.Ordinal);
    }

    [Fact]
    public void ConverseStream_ExceptionFrame_SetsTheErrorType_AndIsNotCompleted()
    {
        var reader = Feed(new BedrockConverseStreamReader(null), EventStream("converse-stream-throttled.jsonl"), []);

        Assert.Equal("throttlingException", reader.ErrorType);
        Assert.False(reader.Completed);
        Assert.Null(reader.Usage);
    }

    [Fact]
    public void ConverseStream_CutBeforeMetadata_IsTruncated()
    {
        var body = EventStream("converse-stream.jsonl");
        var reader = Feed(new BedrockConverseStreamReader(null), body[..(body.Length - 40)], []);

        Assert.False(reader.Completed);
        Assert.Null(reader.Usage);
        Assert.Equal("tool_use", reader.StopReason);
    }

    [Fact]
    public void InvokeStream_AnthropicEventsInBase64Chunks_UseTheAnthropicRules()
    {
        var events = File.ReadAllLines(Fixture("bedrock", "invoke-stream-anthropic.jsonl"));
        var reader = Feed(new BedrockInvokeStreamReader("req-3"), InvokeStream(events), []);

        Assert.Equal(18, reader.Usage!.InputTokenCount);
        Assert.Equal(9, reader.Usage.OutputTokenCount);
        Assert.True(reader.Completed);
        Assert.Equal("claude-3-5-haiku-20241022", reader.ResponseModel);
        Assert.Equal("Hello from Bedrock.", reader.OutputText.GetText(out _));
    }

    [Fact]
    public void InvokeStream_NonAnthropicModel_FallsBackToInvocationMetrics()
    {
        string[] events =
        [
            "{\"generation\":\"Hi\",\"prompt_token_count\":null,\"generation_token_count\":1,\"stop_reason\":null}",
            "{\"generation\":\"!\",\"prompt_token_count\":null,\"generation_token_count\":2,\"stop_reason\":\"stop\",\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":11,\"outputTokenCount\":2,\"invocationLatency\":300,\"firstByteLatency\":100}}",
        ];
        var reader = Feed(new BedrockInvokeStreamReader(null), InvokeStream(events), []);

        Assert.Equal(11, reader.Usage!.InputTokenCount);
        Assert.Equal(2, reader.Usage.OutputTokenCount);
        Assert.True(reader.Completed);
    }

    [Theory]
    [InlineData("converse-stream.jsonl")]
    [InlineData("converse-stream-throttled.jsonl")]
    public void ConverseStream_EverySplitPoint_AndRandomSplits_GiveIdenticalResults(string name)
    {
        var seed = Environment.TickCount;
        output.WriteLine($"{name}: seed {seed}");
        AssertSplitInvariant(() => new BedrockConverseStreamReader("r"), EventStream(name), seed);
    }

    [Fact]
    public void InvokeStream_EverySplitPoint_AndRandomSplits_GiveIdenticalResults()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        AssertSplitInvariant(() => new BedrockInvokeStreamReader("r"), InvokeStream(File.ReadAllLines(Fixture("bedrock", "invoke-stream-anthropic.jsonl"))), seed);
    }

    [Theory]
    [InlineData("converse.json")]
    [InlineData("converse-cache.json")]
    [InlineData("converse-tool.json")]
    public void Converse_EverySplitPoint_GivesIdenticalResults(string name)
    {
        var seed = Environment.TickCount;
        output.WriteLine($"{name}: seed {seed}");
        AssertSplitInvariant(() => new BedrockConverseJsonReader(1 << 20, null), Bytes("bedrock", name), seed, randomRuns: 100);
    }

    /// <summary>FM-04 for Bedrock. InvokeModelWithResponseStream carries Anthropic's cumulative <c>message_delta</c> usage inside
    /// base64 chunks: output must be the last cumulative value (a summing reader would report the sum, made different here);
    /// ConverseStream's <c>metadata</c> is a snapshot: a repeated one replaces the earlier (latest wins, never added).</summary>
    [Fact]
    public void MergeRule_LatestPerField_NeverSummed()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var run = 0; run < 100; run++)
        {
            long input = random.Next(1, 3000);
            var events = new List<string> { $"{{\"type\":\"message_start\",\"message\":{{\"id\":\"m\",\"model\":\"claude\",\"usage\":{{\"input_tokens\":{input},\"output_tokens\":1}}}}}}" };
            long cumulative = 1, sum = 1;
            for (var d = random.Next(2, 6); d > 0; d--)
            {
                cumulative += random.Next(1, 50);
                sum += cumulative;
                events.Add($"{{\"type\":\"message_delta\",\"delta\":{{}},\"usage\":{{\"output_tokens\":{cumulative}}}}}");
            }

            events.Add("{\"type\":\"message_stop\"}");
            var body = InvokeStream(events);
            var cuts = Enumerable.Range(0, random.Next(0, 8)).Select(_ => random.Next(1, body.Length)).Distinct().ToArray();
            var usage = Feed(new BedrockInvokeStreamReader(null), body, cuts).Usage!;
            Assert.NotEqual(sum, cumulative);
            Assert.Equal(cumulative, usage.OutputTokenCount);
            Assert.Equal(input, usage.InputTokenCount);

            long in1 = random.Next(1, 100), in2 = random.Next(101, 200), out1 = random.Next(1, 100), out2 = random.Next(101, 200);
            var frames = EventStreamWriter.Event("metadata", Encoding.UTF8.GetBytes($"{{\"usage\":{{\"inputTokens\":{in1},\"outputTokens\":{out1},\"totalTokens\":{in1 + out1}}}}}"))
                .Concat(EventStreamWriter.Event("metadata", Encoding.UTF8.GetBytes($"{{\"usage\":{{\"inputTokens\":{in2},\"outputTokens\":{out2},\"totalTokens\":{in2 + out2}}}}}"))).ToArray();
            var converse = Feed(new BedrockConverseStreamReader(null), frames, [random.Next(1, frames.Length)]).Usage!;
            Assert.Equal(in2, converse.InputTokenCount);
            Assert.Equal(out2, converse.OutputTokenCount);
        }
    }

    [Theory]
    [InlineData("https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", true, "anthropic.claude-3-haiku-20240307-v1:0", false)]
    [InlineData("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream", true, "us.anthropic.claude-sonnet-4-20250514-v1:0", true)]
    [InlineData("https://bedrock-runtime.cn-north-1.amazonaws.com.cn/model/meta.llama3-8b-instruct-v1%3A0/invoke", true, "meta.llama3-8b-instruct-v1:0", false)]
    [InlineData("https://bedrock-runtime.eu-west-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fabc/invoke-with-response-stream", true, "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc", true)]
    [InlineData("https://bedrock.us-east-1.amazonaws.com/model/x/converse", false, null, false)]
    [InlineData("https://bedrock-runtime.us-east-1.amazonaws.com/guardrail/g1/version/1/apply", false, null, false)]
    public async Task Protocol_DetectsRuntimeCalls_AndDecodesTheModel(string url, bool handled, string? model, bool streaming)
    {
        var protocol = BedrockTokenMetricsBuilderExtensions.CreateBedrockProtocol();
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        Assert.Equal(handled, protocol.CanHandle(request));
        if (!handled)
        {
            return;
        }

        var context = Anthropic.ProtocolContexts.Create(request, protocol);
        await protocol.OnRequestAsync(context, default);
        Assert.Equal("aws.bedrock", context.Provider);
        Assert.Equal(model, context.RequestModel);
        Assert.Equal(streaming, context.IsStreaming);
    }
}

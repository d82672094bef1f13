using System.Buffers;
using System.Text;
using TokenMetrics.Providers.Anthropic;
using TokenMetrics.Providers.Bedrock;
using TokenMetrics.Providers.Rewriting;
using Xunit.Abstractions;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>The rewriters' answer transforms: the OpenAI bytes the app reads do not depend on how the vendor's bytes were split.</summary>
public class TransformSplitTests(ITestOutputHelper output)
{
    private static readonly RewriteState State = new(Stream: true, IncludeUsage: true, "claude-routed", 1_700_000_000);

    private static string Run(TokenUsageResponseReader reader, byte[] body, IEnumerable<int> cuts)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var start = 0;
        foreach (var cut in cuts.Order())
        {
            reader.Transform(body.AsSpan(start, cut - start), buffer, final: false);
            start = cut;
        }

        reader.Transform(body.AsSpan(start), buffer, final: false);
        reader.Transform([], buffer, final: true);
        reader.Complete();
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n#" + Describe(reader);
    }

    private void AssertInvariant(Func<TokenUsageResponseReader> create, byte[] body)
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var expected = Run(create(), body, []);
        Assert.DoesNotContain('\uFFFD', expected);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.Equal(expected, Run(create(), body, [cut]));
        }

        var random = new Random(seed);
        for (var run = 0; run < 100; run++)
        {
            var cuts = Enumerable.Range(0, random.Next(2, 30)).Select(_ => random.Next(1, body.Length)).Distinct().ToArray();
            Assert.Equal(expected, Run(create(), body, cuts));
        }
    }

    [Theory]
    [InlineData("stream-cache-cumulative.sse")]
    [InlineData("stream-tool-use.sse")]
    [InlineData("stream-thinking.sse")]
    [InlineData("stream-error.sse")]
    public void AnthropicStreamToOpenAIChunks_IsSplitInvariant(string name) =>
        AssertInvariant(() => new AnthropicToOpenAIStreamReader(State, 1 << 20), Bytes("anthropic", name));

    [Fact]
    public void AnthropicStreamToOpenAIChunks_ToolArgumentsAndUsageChunk()
    {
        var text = Run(new AnthropicToOpenAIStreamReader(State, 1 << 20), Bytes("anthropic", "stream-tool-use.sse"), []);

        Assert.Contains("\"tool_calls\":[{\"index\":0,\"id\":\"toolu_01KFbKqPYSuAKujiL6mTfzYA\",\"type\":\"function\",\"function\":{\"name\":\"json\",\"arguments\":\"\"}}]", text, StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", text, StringComparison.Ordinal);
        Assert.Contains("\"usage\":{\"prompt_tokens\":849,\"completion_tokens\":47,\"total_tokens\":896", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text[..text.LastIndexOf("\n#", StringComparison.Ordinal)], StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutIncludeUsage_NoUsageChunk()
    {
        var text = Run(new AnthropicToOpenAIStreamReader(State with { IncludeUsage = false }, 1 << 20), Bytes("anthropic", "stream-text.sse"), []);

        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("converse-stream.jsonl")]
    [InlineData("converse-stream-throttled.jsonl")]
    public void ConverseStreamToOpenAIChunks_IsSplitInvariant(string name) =>
        AssertInvariant(() => new BedrockToOpenAIStreamReader(State, "req"), EventStream(name));

    [Fact]
    public void ConverseStreamToOpenAIChunks_CacheNormalisedInTheUsageChunk()
    {
        var text = Run(new BedrockToOpenAIStreamReader(State, "req"), EventStream("converse-stream.jsonl"), []);

        Assert.Contains("\"content\":\"Olá! 日本語\"", text, StringComparison.Ordinal);
        Assert.Contains("\"arguments\":\"{\\\"sign\\\": \"", text, StringComparison.Ordinal);
        Assert.Contains("\"usage\":{\"prompt_tokens\":1399,\"completion_tokens\":56,\"total_tokens\":1455,\"prompt_tokens_details\":{\"cached_tokens\":1024}", text, StringComparison.Ordinal);
    }
}

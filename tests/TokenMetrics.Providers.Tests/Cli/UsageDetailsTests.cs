using System.Text;
using TokenMetrics.Cli.Commands;
using TokenMetrics.Providers.DashScope;
using TokenMetrics.Providers.Ollama;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;

namespace TokenMetrics.Providers.Tests.Cli;

/// <summary>Every vendor's "details" objects (documented bodies, see TestData/SOURCES.md) through the real handler: reasoning
/// into <see cref="TokenUsage.ReasoningTokenCount"/>, cache into the cached/cache-write counts, the rest kept in the details.</summary>
public class UsageDetailsTests
{
    [Fact]
    public async Task AnthropicStream_MessageDeltaThinkingTokens_AreReasoning_AndCacheTtlAndServerToolsKept()
    {
        var record = await Extract("anthropic/stream-thinking-details.sse");

        Assert.Equal("anthropic", record.Provider);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(85 + 700 + 1200, record.Usage.InputTokenCount);
        Assert.Equal(1200, record.Usage.CachedInputTokenCount);
        Assert.Equal(700, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(287, record.Usage.OutputTokenCount);
        Assert.Equal(251, record.Usage.ReasoningTokenCount);
        Assert.Equal(500, record.Usage.InputTokenDetails!["ephemeral_5m_input_tokens"]);
        Assert.Equal(200, record.Usage.InputTokenDetails!["ephemeral_1h_input_tokens"]);
        Assert.Equal(251, record.Usage.OutputTokenDetails!["thinking_tokens"]);
        Assert.Equal(2, record.Usage.OutputTokenDetails!["server_tool_use.web_search_requests"]);
        Assert.Equal(1, record.Usage.OutputTokenDetails!["server_tool_use.web_fetch_requests"]);
    }

    [Fact]
    public async Task AnthropicMessage_ThinkingTokens_AreReasoning()
    {
        var record = await Extract("anthropic/message-thinking-details.json");

        Assert.Equal(31, record.Usage.InputTokenCount);
        Assert.Equal(97, record.Usage.OutputTokenCount);
        Assert.Equal(83, record.Usage.ReasoningTokenCount);
        Assert.Equal("claude-opus-4-1-20250805", record.ResponseModel);
    }

    [Fact]
    public async Task AnthropicStream_WithoutDetails_HasNoReasoningCount()
    {
        var record = await Extract("anthropic/stream-thinking.sse");

        Assert.Equal(287, record.Usage.OutputTokenCount);
        Assert.Null(record.Usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task OpenAIChat_AudioAndPredictionDetails_AreKept()
    {
        var record = await Extract("openai/chat-details.json");

        Assert.Equal("openai", record.Provider);
        Assert.Equal(1117, record.Usage.InputTokenCount);
        Assert.Equal(1024, record.Usage.CachedInputTokenCount);
        Assert.Equal(7, record.Usage.ReasoningTokenCount);
        Assert.Equal(13, record.Usage.InputTokenDetails!["audio_tokens"]);
        Assert.Equal(3, record.Usage.OutputTokenDetails!["audio_tokens"]);
        Assert.Equal(11, record.Usage.OutputTokenDetails!["accepted_prediction_tokens"]);
        Assert.Equal(5, record.Usage.OutputTokenDetails!["rejected_prediction_tokens"]);
    }

    [Fact]
    public async Task OpenAIResponses_InputAndOutputDetails()
    {
        var record = await Extract("openai/responses-details.json");

        Assert.Equal(328, record.Usage.InputTokenCount);
        Assert.Equal(256, record.Usage.CachedInputTokenCount);
        Assert.Equal(40, record.Usage.ReasoningTokenCount);
        Assert.Equal(380, record.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task QwenExplicitCache_CacheCreationIsCacheWrite_AndTtlKept()
    {
        var record = await Extract("openai/qwen-explicit-cache.json");

        Assert.Equal(3019, record.Usage.InputTokenCount);
        Assert.Equal(0, record.Usage.CachedInputTokenCount);
        Assert.Equal(1499, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(1499, record.Usage.InputTokenDetails!["cache_creation.ephemeral_5m_input_tokens"]);
        Assert.False(record.Usage.InputTokenDetails!.ContainsKey("cache_type"));
    }

    [Fact]
    public async Task DashScopeNative_ReasoningTokens()
    {
        var record = await Extract("dashscope/generation.json");

        Assert.Equal("dashscope", record.Provider);
        Assert.Equal(22, record.Usage.InputTokenCount);
        Assert.Equal(30, record.Usage.ReasoningTokenCount);
        Assert.Equal(0, record.Usage.CachedInputTokenCount);
    }

    [Fact]
    public async Task DeepSeek_CacheHitIsCached_MissKept()
    {
        var record = await Extract("openai-compatible/deepseek-cache-hit.json");

        Assert.Equal("deepseek", record.Provider);
        Assert.NotNull(record.Usage.CachedInputTokenCount);
        Assert.Equal(record.Usage.InputTokenDetails!["prompt_cache_hit_tokens"], record.Usage.CachedInputTokenCount);
        Assert.True(record.Usage.InputTokenDetails!.ContainsKey("prompt_cache_miss_tokens"));
    }

    [Fact]
    public async Task GeminiDetails_ThoughtsCacheToolUseAndModalities()
    {
        var record = await Extract("gemini/generate-content-details.json");

        Assert.Equal("gcp.gemini", record.Provider);
        Assert.Equal(1290 + 12, record.Usage.InputTokenCount);
        Assert.Equal(9 + 40, record.Usage.OutputTokenCount);
        Assert.Equal(40, record.Usage.ReasoningTokenCount);
        Assert.Equal(1024, record.Usage.CachedInputTokenCount);
        Assert.Equal(1351, record.Usage.TotalTokenCount);
        Assert.Equal(1258, record.Usage.InputTokenDetails!["prompt.IMAGE"]);
        Assert.Equal(1024, record.Usage.InputTokenDetails!["cache.IMAGE"]);
        Assert.Equal(12, record.Usage.InputTokenDetails!["tool_use.TEXT"]);
        Assert.Equal(9, record.Usage.OutputTokenDetails!["candidates.TEXT"]);
    }

    [Fact]
    public async Task BedrockConverse_CacheDetailsPerTtl_AndCacheCounts()
    {
        var record = await Extract("bedrock/converse-cache-details.json");

        Assert.Equal("aws.bedrock", record.Provider);
        Assert.Equal(21 + 1800, record.Usage.InputTokenCount);
        Assert.Equal(1800, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(0, record.Usage.CachedInputTokenCount);
        Assert.Equal(1500, record.Usage.InputTokenDetails!["cacheDetails.1h"]);
        Assert.Equal(300, record.Usage.InputTokenDetails!["cacheDetails.5m"]);
    }

    [Fact]
    public void DashScopeBody_LargerThanTheDocumentLimit_UsageFoundInTheTail()
    {
        // 3 MiB of answer text against a 1 MiB document limit: the framer drops the document, the tail still has the usage.
        var text = new string('x', 3 << 20);
        var body = Encoding.UTF8.GetBytes($"{{\"request_id\":\"r-1\",\"output\":{{\"choices\":[{{\"finish_reason\":\"stop\",\"message\":{{\"role\":\"assistant\",\"content\":\"{text}\"}}}}]}},\"usage\":{{\"input_tokens\":17,\"output_tokens\":900001,\"total_tokens\":900018,\"output_tokens_details\":{{\"reasoning_tokens\":5}}}}}}");

        var reader = VendorHarness.Run(() => new DashScopeResponseReader(DocumentFraming.Objects, 1 << 20, streaming: false), body, [4096, 1 << 20, (2 << 20) + 7]);

        Assert.True(reader.Completed);
        Assert.Equal(17, reader.Usage!.InputTokenCount);
        Assert.Equal(900001, reader.Usage.OutputTokenCount);
        Assert.Equal(5, reader.Usage.ReasoningTokenCount);
    }

    [Fact]
    public void OllamaEmbedBody_LargerThanTheDocumentLimit_CountsFoundInTheTail()
    {
        var vectors = string.Join(',', Enumerable.Range(0, 200_000).Select(i => "0.0123456789"));
        var body = Encoding.UTF8.GetBytes($"{{\"model\":\"all-minilm\",\"embeddings\":[[{vectors}]],\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":8}}");
        Assert.True(body.Length > 2 << 20);

        var reader = VendorHarness.Run(() => new OllamaResponseReader(1 << 20, keepTail: true), body, [1000, 1 << 20]);

        Assert.True(reader.Completed);
        Assert.Equal(8, reader.Usage!.InputTokenCount);
        Assert.Null(reader.Usage.OutputTokenCount);
    }

    [Fact]
    public void OllamaBody_WithinTheLimit_ReadAsBefore()
    {
        var reader = VendorHarness.Run(() => new OllamaResponseReader(1 << 20, keepTail: true), VendorHarness.Load("ollama/chat.json"));

        Assert.True(reader.Completed);
        Assert.NotNull(reader.Usage!.InputTokenCount);
    }

    private static Task<TokenUsageRecord> Extract(string fixture) =>
        ExtractCommand.ExtractAsync("auto", VendorHarness.Load(fixture), null, default);
}

using System.Text;
using System.Text.Json;
using TokenMetrics.Cli.Commands;

namespace TokenMetrics.Providers.Tests.Cli;

public class ExtractCommandTests
{
    private static readonly byte[] ChatStreamWithUsage = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
        + "data: [DONE]\n\n");

    private static readonly byte[] ChatStreamWithoutUsage = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello there, friend\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: [DONE]\n\n");

    [Fact]
    public async Task StreamWithUsage_IsReported()
    {
        var record = await ExtractCommand.ExtractAsync("auto", ChatStreamWithUsage, null, default);

        Assert.Equal("openai", record.Provider);
        Assert.Equal("gpt-4o-mini-2024-07-18", record.ResponseModel);
        Assert.Equal(12, record.Usage.InputTokenCount);
        Assert.Equal(4, record.Usage.CachedInputTokenCount);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
    }

    [Fact]
    public async Task StreamWithoutUsage_IsEstimatedFromTheRequestAndTheAnswer_ExactlyAsTiktokenCounts()
    {
        var request = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],\"stream\":true}");

        var record = await ExtractCommand.ExtractAsync("auto", ChatStreamWithoutUsage, request, default);

        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal("o200k_base", record.EstimationMethod);
        Assert.Equal(TiktokenTokenEstimator.Instance.CountRequest(request, "gpt-4o-mini").Tokens, record.Usage.InputTokenCount);
        Assert.Equal(TiktokenEncoding.ForModel("gpt-4o-mini").CountTokens("Hello there, friend"), record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task JsonOutput_HasTheDocumentedFields()
    {
        var record = await ExtractCommand.ExtractAsync("openai", ChatStreamWithUsage, null, default);

        using var json = JsonDocument.Parse(ExtractCommand.ToJson(record));
        var root = json.RootElement;
        foreach (var name in new[] { "provider", "model", "input_tokens", "output_tokens", "total_tokens", "cached_input_tokens", "cache_write_input_tokens", "reasoning_tokens", "source" })
        {
            Assert.True(root.TryGetProperty(name, out _), name);
        }

        Assert.Equal(15, root.GetProperty("total_tokens").GetInt64());
        Assert.Equal("reported", root.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("reasoning_tokens").ValueKind);
    }

    [Fact]
    public void Cost_InJsonAndTable_NullNeverZeroWhenUnpriced()
    {
        var priced = new TokenUsageRecord { Usage = new TokenUsage { InputTokenCount = 10 }, Source = TokenUsageSource.Reported, Cost = 0.0000375m, Currency = "USD", PricedModel = "gpt-4o-mini" };
        var unpriced = priced with { Cost = null, Currency = null, PricedModel = null };

        using var json = JsonDocument.Parse(ExtractCommand.ToJson(priced));
        Assert.Equal("0.0000375", json.RootElement.GetProperty("cost").GetRawText());
        Assert.Equal("USD", json.RootElement.GetProperty("currency").GetString());
        Assert.Equal("gpt-4o-mini", json.RootElement.GetProperty("priced_model").GetString());
        Assert.Equal("0.0000375 USD (priced as gpt-4o-mini)", ExtractCommand.CostText(priced));

        using var none = JsonDocument.Parse(ExtractCommand.ToJson(unpriced));
        Assert.Equal(JsonValueKind.Null, none.RootElement.GetProperty("cost").ValueKind);
        Assert.Equal("unknown (no price for this model)", ExtractCommand.CostText(unpriced));
    }

    [Fact]
    public async Task ResponsesApiBody_IsSniffed()
    {
        var body = Encoding.UTF8.GetBytes("{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"usage\":{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":9,\"output_tokens_details\":{\"reasoning_tokens\":2},\"total_tokens\":39}}");

        var record = await ExtractCommand.ExtractAsync("auto", body, null, default);

        Assert.Equal(30, record.Usage.InputTokenCount);
        Assert.Equal(2, record.Usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task RunAsync_MissingFile_IsAClearError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ExtractCommand.RunAsync("auto", null, false, "/nonexistent/body.json", output, error, default);

        Assert.Equal(TokenMetrics.Cli.ExitCodes.InputError, code);
        Assert.Contains("does not exist", error.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>Every vendor's recorded bodies, through the CLI with provider "auto": the sniffed vendor reads them.</summary>
public class ExtractCommandVendorFixtureTests
{
    [Theory]
    [InlineData("anthropic/stream-text.sse", "anthropic")]
    [InlineData("anthropic/stream-cache-cumulative.sse", "anthropic")]
    [InlineData("anthropic/message-cache.json", "anthropic")]
    [InlineData("gemini/stream-sse.txt", "gcp.gemini")]
    [InlineData("gemini/stream-array.json", "gcp.gemini")]
    [InlineData("gemini/generate-content.json", "gcp.gemini")]
    [InlineData("ollama/chat-stream.ndjson", "ollama")]
    [InlineData("ollama/chat.json", "ollama")]
    [InlineData("dashscope/stream-sse.txt", "dashscope")]
    [InlineData("dashscope/generation.json", "dashscope")]
    [InlineData("cohere/chat.json", "cohere")]
    [InlineData("openai-compatible/deepseek-cache-hit.json", "deepseek")]
    public async Task AutoDetectedVendor_ReportsUsage(string fixture, string provider)
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", fixture));

        var record = await ExtractCommand.ExtractAsync("auto", body, null, default);

        Assert.Equal(provider, record.Provider);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.True(record.Usage.InputTokenCount > 0, $"{fixture}: input {record.Usage.InputTokenCount}");
    }
}

public class ExtractCommandBedrockTests
{
    [Fact]
    public async Task BinaryEventStream_IsSniffedAsBedrock_AndItsUsageRead()
    {
        var body = TokenMetrics.Providers.Tests.Anthropic.ReaderHarness.EventStream("converse-stream.jsonl");

        var record = await ExtractCommand.ExtractAsync("auto", body, null, default);

        Assert.Equal("aws.bedrock", record.Provider);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(375 + 1024, record.Usage.InputTokenCount);
        Assert.Equal(1024, record.Usage.CachedInputTokenCount);
    }
}

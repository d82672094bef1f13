using System.Text;
using TokenMetrics.Providers.Tests.Anthropic;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Bedrock;

/// <summary>Metering (no rewriting) of the mock's Bedrock runtime over real sockets (the mock host is configured as a Bedrock host).</summary>
public sealed class BedrockMockMeteringTests : IAsyncLifetime
{
    private const string Model = "anthropic.claude-3-5-haiku-20241022-v1:0";

    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client(TestRecorder t, params (string, string)[] headers) =>
        new(new TokenMetricsHandler(t.Recorder, [BedrockTokenMetricsBuilderExtensions.CreateBedrockProtocol(o => o.Hosts.Add("127.0.0.1"))], new HeaderHandler(new SocketsHttpHandler(), headers)))
        {
            BaseAddress = _server.BaseAddress,
        };

    private static StringContent Converse() =>
        new("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hello Bedrock — 日本\"}]}],\"system\":[{\"text\":\"Be brief.\"}]}", Encoding.UTF8, "application/json");

    private static StringContent Invoke() =>
        new("{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}", Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("converse", false)]
    [InlineData("converse-stream", true)]
    [InlineData("invoke", false)]
    [InlineData("invoke-with-response-stream", true)]
    public async Task EveryRuntimeAction_ReportedUsage_ModelFromThePath(string action, bool streaming)
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-prompt-tokens", "40"), ("x-mock-cached-tokens", "60"), ("x-mock-completion-tokens", "9"), ("x-mock-split-bytes", "5"));

        using var response = await client.PostAsync($"model/{Uri.EscapeDataString(Model)}/{action}", action.StartsWith("converse", StringComparison.Ordinal) ? Converse() : Invoke());
        _ = await response.Content.ReadAsByteArrayAsync();

        Assert.True(response.IsSuccessStatusCode);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("aws.bedrock", record.Provider);
        Assert.Equal(Model, record.RequestModel);
        Assert.Equal(streaming, record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(100, record.Usage.InputTokenCount);
        Assert.Equal(60, record.Usage.CachedInputTokenCount);
        Assert.Equal(9, record.Usage.OutputTokenCount);
        Assert.NotNull(record.ResponseId);
    }

    [Fact]
    public async Task ConverseStream_Cut_IsTruncated()
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-cut-after", "2"));

        using var response = await client.PostAsync($"model/{Uri.EscapeDataString(Model)}/converse-stream", Converse());
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Truncated, record.Status);
        Assert.NotEqual(TokenUsageSource.Reported, record.Source); // estimated from the text seen, never a reported 0
    }

    [Fact]
    public async Task ConverseStream_ExceptionFrame_IsAnError()
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-stream-error-after", "1"));

        using var response = await client.PostAsync($"model/{Uri.EscapeDataString(Model)}/converse-stream", Converse());
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal("modelStreamErrorException", record.ErrorType);
    }
}

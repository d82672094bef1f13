using System.Net;
using System.Text;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>Metering (no rewriting) of the mock's Anthropic and Vertex endpoints over real sockets.</summary>
public sealed class AnthropicMockMeteringTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client(TestRecorder t, params (string, string)[] headers) =>
        new(new TokenMetricsHandler(t.Recorder, [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(), AnthropicTokenMetricsBuilderExtensions.CreateVertexAnthropicProtocol(), OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol()], new HeaderHandler(new SocketsHttpHandler(), headers)))
        {
            BaseAddress = _server.BaseAddress,
        };

    private static HttpRequestMessage Messages(bool stream, string model = "claude-sonnet-4-5")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent($"{{\"model\":\"{model}\",\"max_tokens\":100,\"stream\":{(stream ? "true" : "false")},\"system\":\"Be brief.\",\"messages\":[{{\"role\":\"user\",\"content\":\"Hello, Claude — ça va? 日本\"}}]}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("x-api-key", "sk-ant-test");
        return request;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_CacheNormalised_OneRecord(bool stream)
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-prompt-tokens", "42"), ("x-mock-cached-tokens", "8"), ("x-mock-cache-write-tokens", "5"), ("x-mock-completion-tokens", "17"), ("x-mock-split-bytes", "7"));

        using var response = await client.SendAsync(Messages(stream));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(stream ? "event: message_stop" : "\"stop_reason\":\"end_turn\"", body, StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("claude-sonnet-4-5", record.RequestModel);
        Assert.Equal("claude-sonnet-4-5", record.ResponseModel);
        Assert.Equal(stream, record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(42 + 8 + 5, record.Usage.InputTokenCount);
        Assert.Equal(8, record.Usage.CachedInputTokenCount);
        Assert.Equal(5, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(17, record.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GzipBody_IsMeteredFromADecompressedCopy_AndTheAppGetsTheBytesUnchanged(bool stream)
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-gzip", "true"), ("x-mock-prompt-tokens", "13"), ("x-mock-completion-tokens", "4"));

        using var response = await client.SendAsync(Messages(stream));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(new byte[] { 0x1f, 0x8b }, bytes[..2]);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(13, record.Usage.InputTokenCount);
        Assert.Equal(4, record.Usage.OutputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Fact]
    public async Task Stream_CutBeforeMessageStop_IsTruncated_WithTheInputReported()
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-cut-after", "2"), ("x-mock-prompt-tokens", "30"));

        using var response = await client.SendAsync(Messages(stream: true));
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Truncated, record.Status);
        Assert.Equal(30, record.Usage.InputTokenCount);
        Assert.Equal(1, record.Usage.OutputTokenCount); // message_start's placeholder, the only count that arrived
    }

    [Fact]
    public async Task Stream_ErrorEvent_IsAnError()
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-stream-error-after", "1"));

        using var response = await client.SendAsync(Messages(stream: true));
        Assert.Contains("overloaded_error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal("overloaded_error", record.ErrorType);
    }

    [Fact]
    public async Task HttpError_InAnthropicShape_IsRecordedAsAnError()
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-status", "529"));

        using var response = await client.SendAsync(Messages(stream: false));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Contains("\"type\":\"overloaded_error\"", body, StringComparison.Ordinal);
        Assert.Equal(TokenUsageStatus.Error, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task MissingVersionHeader_IsRejectedByTheMock_LikeTheRealApi()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Messages(stream: false);
        request.Headers.Remove("anthropic-version");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("anthropic-version", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rawPredict")]
    [InlineData("streamRawPredict")]
    public async Task Vertex_RawPredict_IsMeteredAsVertex(string action)
    {
        await using var t = new TestRecorder();
        using var client = Client(t, ("x-mock-prompt-tokens", "11"), ("x-mock-completion-tokens", "3"));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:{action}")
        {
            Content = new StringContent("{\"anthropic_version\":\"vertex-2023-10-16\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("gcp.vertex_ai", record.Provider);
        Assert.Equal("claude-sonnet-4@20250514", record.RequestModel);
        Assert.Equal(action == "streamRawPredict", record.IsStreaming);
        Assert.Equal(11, record.Usage.InputTokenCount);
        Assert.Equal(3, record.Usage.OutputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }
}

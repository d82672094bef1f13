using System.Net;
using System.Text;
using TokenMetrics.Providers.Tests.Support;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Cohere;

/// <summary>Metering of the mock's Cohere v2 endpoints through <see cref="TokenMetricsHandler"/> over real sockets.</summary>
public sealed class CohereMockMeteringTests : IAsyncLifetime
{
    /// <summary>The mock's <c>usage.tokens.input_tokens</c> minus the billed input (its chat template).</summary>
    private const int MockTemplateTokens = 64;

    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The mock listens on 127.0.0.1, not api.cohere.com: the host is configured, as an app with a proxy would.</summary>
    private HttpClient Client(TestRecorder recorder) =>
        new(new TokenMetricsHandler(recorder.Recorder, [CohereTokenMetricsBuilderExtensions.CreateCohereProtocol(o => o.Hosts.Add("127.0.0.1")), TestRecorder.OpenAI], new SocketsHttpHandler()))
        {
            BaseAddress = _server.BaseAddress,
        };

    private static HttpRequestMessage Chat(bool stream, string model = "command-a-03-2025", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v2/chat")
        {
            Content = new StringContent($"{{\"model\":\"{model}\",\"stream\":{(stream ? "true" : "false")},\"messages\":[{{\"role\":\"user\",\"content\":\"Bonjour, ça va? 日本\"}}]}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "co-test-key");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_UsageIsWhatTheMockWasToldToReport_OneRecord(bool stream)
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream, headers: [(MockHeaders.PromptTokens, "17"), (MockHeaders.CompletionTokens, "12"), (MockHeaders.CachedTokens, "4"), (MockHeaders.SplitBytes, "7")]);

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(stream ? "event: message-end" : "\"finish_reason\":\"COMPLETE\"", body, StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("cohere", record.Provider);
        Assert.Equal("chat", record.Operation);
        Assert.Equal("command-a-03-2025", record.RequestModel);
        Assert.Equal(stream, record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(17, record.Usage.InputTokenCount);
        Assert.Equal(12, record.Usage.OutputTokenCount);
        Assert.Equal(4, record.Usage.CachedInputTokenCount);
        Assert.Equal(17 + MockTemplateTokens, record.Usage.InputTokenDetails!["tokens.input_tokens"]);
        Assert.Equal(12, record.Usage.OutputTokenDetails!["tokens.output_tokens"]);
        Assert.True(Guid.TryParse(record.ResponseId, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_DefaultCounts_MatchTheBodyTheAppRead(bool stream)
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream);

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        // The mock derives the counts from the prompt and the answer; the record must carry the ones in the body.
        Assert.Contains($"\"billed_units\":{{\"input_tokens\":{record.Usage.InputTokenCount},\"output_tokens\":{record.Usage.OutputTokenCount}}}", body, StringComparison.Ordinal);
        Assert.Equal(10, record.Usage.OutputTokenCount); // one per word of the default answer
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_StreamCutBeforeMessageEnd_IsTruncated_NothingReported(bool abort)
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream: true, model: abort ? "command-a-03-2025+mock-abort-3" : "command-a-03-2025+mock-cut-3", headers: [(MockHeaders.PromptTokens, "30")]);

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            _ = await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException) when (abort)
        {
            // The aborted connection surfaces to the app; the record still has to be written.
        }
        catch (IOException) when (abort)
        {
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(abort ? TokenUsageStatus.Error : TokenUsageStatus.Truncated, record.Status);
        Assert.NotEqual(TokenUsageSource.Reported, record.Source); // usage only comes in message-end, which never arrived
        Assert.True(record.IsStreaming);
    }

    [Fact]
    public async Task Chat_StreamErrorInMessageEnd_IsAnError()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream: true, headers: [(MockHeaders.StreamErrorAfter, "2")]);

        using var response = await client.SendAsync(request);
        Assert.Contains("\"finish_reason\":\"ERROR\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
    }

    [Fact]
    public async Task Chat_HttpError_IsRecordedAsAnError_WithTheStatus()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream: false, headers: [(MockHeaders.Status, "429")]);

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(429, record.HttpStatusCode);
    }

    [Fact]
    public async Task Chat_GzipStream_IsMeteredFromADecompressedCopy()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Chat(stream: true, headers: [(MockHeaders.Gzip, "true"), (MockHeaders.PromptTokens, "9"), (MockHeaders.CompletionTokens, "5")]);

        using var response = await client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(new byte[] { 0x1f, 0x8b }, bytes[..2]);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(9, record.Usage.InputTokenCount);
        Assert.Equal(5, record.Usage.OutputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Fact]
    public async Task Embed_BilledInputTokens_AreTheInput()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/embed")
        {
            Content = new StringContent("""{"model":"embed-v4.0","texts":["hello world"],"input_type":"search_query","embedding_types":["float"]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(MockHeaders.PromptTokens, "6");

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("cohere", record.Provider);
        Assert.Equal("embeddings", record.Operation);
        Assert.Equal(6, record.Usage.InputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }
}

using System.ClientModel;
using System.ClientModel.Primitives;
using System.Security.Cryptography;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Testing;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.EndToEnd;

/// <summary>The handler over real sockets: the official OpenAI SDK and raw HTTP against the mock LLM server on 127.0.0.1.</summary>
public sealed class MockServerEndToEndTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ChatClient Sdk(TestRecorder t, string model, TokenMetricsHandlerOptions? options = null)
    {
        var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler(), options));
        return new ChatClient(model, new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });
    }

    private HttpClient Raw(TestRecorder t, TokenMetricsHandlerOptions? options = null) =>
        new(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler(), options)) { BaseAddress = new Uri(_server.BaseAddress, "v1/") };

    private static HttpRequestMessage ChatRequest(bool stream, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = new StringContent(OpenAIFixtures.ChatRequest(stream), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return request;
    }

    [Fact]
    public async Task OpenAISdk_NonStreamedAndStreamed_ReportedUsageOneRecordEach()
    {
        await using var t = new TestRecorder();
        var chat = Sdk(t, "gpt-4o-mini");
        ChatMessage[] prompt = [new UserChatMessage("How many tokens is this?")];

        var completion = (await chat.CompleteChatAsync(prompt)).Value;
        ChatTokenUsage? streamedUsage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(prompt))
        {
            streamedUsage = update.Usage ?? streamedUsage;
        }

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.Equal(completion.Usage.InputTokenCount, records[0].Usage.InputTokenCount);
        Assert.Equal(completion.Usage.OutputTokenCount, records[0].Usage.OutputTokenCount);
        Assert.NotNull(streamedUsage); // the SDK asked for usage itself, so it must still get it
        Assert.Equal(streamedUsage!.OutputTokenCount, records[1].Usage.OutputTokenCount);
        Assert.All(records, r => Assert.Equal(TokenUsageSource.Reported, r.Source));
        Assert.All(records, r => Assert.Equal(TokenUsageStatus.Ok, r.Status));
        Assert.True(records[1].IsStreaming);
    }

    [Fact]
    public async Task RawStreamWithoutIncludeUsage_OverASocket_AppBytesEqualTheUnmeteredStream()
    {
        await using var t = new TestRecorder();
        using var plain = new HttpClient { BaseAddress = new Uri(_server.BaseAddress, "v1/") };
        using var metered = Raw(t);

        using var expectedResponse = await plain.SendAsync(ChatRequest(stream: true, (MockHeaders.SplitBytes, "7")));
        var expected = await expectedResponse.Content.ReadAsByteArrayAsync();
        using var response = await metered.SendAsync(ChatRequest(stream: true, (MockHeaders.SplitBytes, "7")), HttpCompletionOption.ResponseHeadersRead);
        var actual = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(actual));
        Assert.Contains("\"include_usage\":true", _server.Requests[^1].BodyText, StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.True(record.Usage.InputTokenCount > 0);
    }

    [Theory]
    [InlineData(MockHeaders.Gzip, "true")]
    [InlineData(MockHeaders.AzureContentFilter, "true")]
    [InlineData(MockHeaders.SplitBytes, "1")]
    public async Task OddButValidStreams_ReportedAndOk(string header, string value)
    {
        await using var t = new TestRecorder();
        using var client = Raw(t);
        using var request = ChatRequest(true, (header, value), (MockHeaders.PromptTokens, "77"));
        request.Content = new StringContent(OpenAIFixtures.ChatRequest(true, "{\"include_usage\":true}"), Encoding.UTF8, "application/json");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(77, record.Usage.InputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Fact]
    public async Task AbortedConnection_IsAnErrorForTheApp_AndOneRecordWithEstimate()
    {
        await using var t = new TestRecorder(o => o.EstimateFailedCalls = true);
        using var client = Raw(t);

        using var response = await client.SendAsync(ChatRequest(true, (MockHeaders.CutAfter, "3"), (MockHeaders.CutAbort, "true")), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var thrown = await Record.ExceptionAsync(() => body.CopyToAsync(Stream.Null));

        Assert.NotNull(thrown);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(thrown!.GetType().FullName, record.ErrorType);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
    }

    [Fact]
    public async Task CleanCutWithoutDone_IsTruncated()
    {
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using var response = await client.SendAsync(ChatRequest(true, (MockHeaders.CutAfter, "2")));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Truncated, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
    }

    [Fact]
    public async Task InStreamError_IsRecordedAsError()
    {
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using var response = await client.SendAsync(ChatRequest(true, (MockHeaders.StreamErrorAfter, "2")));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.NotNull(record.ErrorType);
    }

    [Fact]
    public async Task HugeNonStreamedBody_PastTheInspectionLimit_StillFindsTheUsageAtTheEnd()
    {
        await using var t = new TestRecorder();
        using var client = Raw(t, new TokenMetricsHandlerOptions { MaxInspectedResponseBytes = 64 * 1024 });

        using var response = await client.SendAsync(ChatRequest(false, (MockHeaders.HugeBytes, "3000000"), (MockHeaders.PromptTokens, "4242")));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.True(body.Length > 3_000_000);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(4242, record.Usage.InputTokenCount);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
    }

    [Fact]
    public async Task SlowStream_TimeToFirstChunkIsBelowDuration()
    {
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using var response = await client.SendAsync(ChatRequest(true, (MockHeaders.ChunkDelayMs, "20"), (MockHeaders.Chunks, "5")), HttpCompletionOption.ResponseHeadersRead);
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.NotNull(record.TimeToFirstChunk);
        Assert.True(record.TimeToFirstChunk < record.Duration, $"{record.TimeToFirstChunk} < {record.Duration}");
        Assert.True(record.Duration >= TimeSpan.FromMilliseconds(80), record.Duration.ToString());
    }
}

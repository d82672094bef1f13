using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

public class TokenMetricsHandlerTests
{
    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Reads the whole body as an app would, in reads of <paramref name="readSize"/> bytes.</summary>
    internal static async Task<byte[]> ReadAllInOddReadsAsync(HttpResponseMessage response, int readSize = 7)
    {
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var ms = new MemoryStream();
        var buffer = new byte[readSize];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }

    [Fact]
    public async Task NonStreamedChat_RecordsReportedUsageModelAndEndpoint()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson(prompt: 1200, completion: 80, cached: 1024, reasoning: 64))));

        using var response = await client.PostAsync("chat/completions?api-version=1&key=secret", JsonBody(OpenAIFixtures.ChatRequest(stream: false)));
        var text = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("openai", record.Provider);
        Assert.Equal("chat", record.Operation);
        Assert.Equal(OpenAIFixtures.Model, record.RequestModel);
        Assert.Equal(OpenAIFixtures.ResponseModel, record.ResponseModel);
        Assert.Equal("chatcmpl-abc123", record.ResponseId);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(1200, record.Usage.InputTokenCount);
        Assert.Equal(80, record.Usage.OutputTokenCount);
        Assert.Equal(1280, record.Usage.TotalTokenCount);
        Assert.Equal(1024, record.Usage.CachedInputTokenCount);
        Assert.Equal(64, record.Usage.ReasoningTokenCount);
        Assert.Equal(0, record.Usage.OutputTokenDetails!["accepted_prediction_tokens"]);
        Assert.False(record.IsStreaming);
        Assert.Null(record.TimeToFirstChunk);
        Assert.Equal(200, record.HttpStatusCode);
        Assert.Equal("https://api.openai.com/v1/chat/completions", record.Endpoint);
        Assert.Equal(TokenUsageLayer.Http, record.Layer);
        Assert.Contains("Hello!", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_NeverCarriesQueryOrUserInfo()
    {
        await using var t = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.EmbeddingsJson()))));

        using var response = await client.PostAsync("https://user:pa55@example.test:8443/v1/embeddings?key=AIzaSECRET", JsonBody("{\"model\":\"text-embedding-3-small\",\"input\":\"hi\"}"));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("https://example.test:8443/v1/embeddings", record.Endpoint);
        Assert.Equal("embeddings", record.Operation);
        Assert.Equal(8, record.Usage.InputTokenCount);
        Assert.DoesNotContain("SECRET", JsonSerializer.Serialize(record), StringComparison.Ordinal);
        Assert.DoesNotContain("pa55", JsonSerializer.Serialize(record), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("sse")]
    [InlineData("sse-crlf")]
    [InlineData("gzip-json")]
    [InlineData("gzip-sse")]
    public async Task AppReadsExactlyTheUpstreamBytes(string kind)
    {
        await using var t = new TestRecorder();
        var raw = kind switch
        {
            "json" => Encoding.UTF8.GetBytes(OpenAIFixtures.ChatCompletionJson()),
            "sse-crlf" => OpenAIFixtures.ChatStream(includeUsage: true, lineEnd: "\r\n"),
            _ when kind.EndsWith("sse", StringComparison.Ordinal) => OpenAIFixtures.ChatStream(includeUsage: true),
            _ => Encoding.UTF8.GetBytes(OpenAIFixtures.ChatCompletionJson()),
        };
        var gzip = kind.StartsWith("gzip", StringComparison.Ordinal);
        var upstream = gzip ? Gzip(raw) : raw;
        var handler = new StubHttpHandler((_, _) =>
        {
            var content = new StreamContent(new ChunkedStream(upstream, [3, 17, 1, 64, 5]));
            content.Headers.ContentType = new(kind.Contains("sse", StringComparison.Ordinal) ? "text/event-stream" : "application/json");
            if (gzip)
            {
                content.Headers.ContentEncoding.Add("gzip");
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        });
        using var client = t.CreateClient(handler);
        var stream = kind.Contains("sse", StringComparison.Ordinal);

        // The app asked for usage itself, so nothing is injected or withheld: the bytes must be identical.
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonBody(OpenAIFixtures.ChatRequest(stream, stream ? "{\"include_usage\":true}" : null)) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var read = await ReadAllInOddReadsAsync(response);

        Assert.Equal(SHA256.HashData(upstream), SHA256.HashData(read));
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(19, record.Usage.InputTokenCount);
    }

    [Fact]
    public async Task StreamWithoutIncludeUsage_InjectsIt_AndAppReadsExactlyWhatItWouldHaveReadWithout()
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer(chunkSizes: [1, 2, 3, 50, 7, 300]);
        using var metered = t.CreateClient(server);
        using var plain = new HttpClient(OpenAIFixtures.ChatServer(chunkSizes: [4096])) { BaseAddress = new Uri("https://api.openai.com/v1/") };
        var body = OpenAIFixtures.ChatRequest(stream: true);

        using var expectedResponse = await plain.PostAsync("chat/completions", JsonBody(body));
        var expected = await expectedResponse.Content.ReadAsByteArrayAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonBody(body) };
        using var response = await metered.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var actual = await ReadAllInOddReadsAsync(response, readSize: 5);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
        var sent = JsonDocument.Parse(server.RequestBodies.Single()!).RootElement;
        Assert.True(sent.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.DoesNotContain("\"usage\"", Encoding.UTF8.GetString(actual), StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(19, record.Usage.InputTokenCount);
        Assert.Equal(OpenAIFixtures.Words.Length, record.Usage.OutputTokenCount);
        Assert.True(record.IsStreaming);
        Assert.NotNull(record.TimeToFirstChunk);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Theory]
    [InlineData("{\"include_usage\":false}")]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("{\"continuous_usage_stats\":false}")]
    public async Task StreamOptionsVariants_AreRewrittenToAskForUsage(string streamOptions)
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer();
        using var client = t.CreateClient(server);

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(stream: true, streamOptions)));
        var text = await response.Content.ReadAsStringAsync();

        var sent = JsonDocument.Parse(server.RequestBodies.Single()!).RootElement;
        Assert.True(sent.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("Say hello", sent.GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.Equal(19, Assert.Single(await t.RecordsAsync(1)).Usage.InputTokenCount);
    }

    [Fact]
    public async Task RequestStreamUsageOff_LeavesRequestAlone_AndEstimates()
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer();
        using var client = t.CreateClient(server, new TokenMetricsHandlerOptions { RequestStreamUsage = false });
        var body = OpenAIFixtures.ChatRequest(stream: true);

        using var response = await client.PostAsync("chat/completions", JsonBody(body));
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal(body, Encoding.UTF8.GetString(server.RequestBodies.Single()!));
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.True(record.Usage.InputTokenCount > 0);
        Assert.True(record.Usage.OutputTokenCount > 0);
        Assert.NotNull(record.EstimationMethod);
    }

    [Fact]
    public async Task SseSplitAtEveryByteOffset_GivesTheSameUsage()
    {
        var stream = OpenAIFixtures.ChatStream(includeUsage: true, prompt: 321, cached: 128, reasoning: 7);
        await using var t = new TestRecorder(o => o.MaxQueueSize = 100_000); // thousands of records in a burst
        for (var split = 1; split < stream.Length; split++)
        {
            using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(StubHttpHandler.Sse(stream, [split, stream.Length]))));
            using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(true, "{\"include_usage\":true}")));
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var records = await t.RecordsAsync(stream.Length - 1);
        Assert.Equal(stream.Length - 1, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal(TokenUsageSource.Reported, r.Source);
            Assert.Equal(321, r.Usage.InputTokenCount);
            Assert.Equal(128, r.Usage.CachedInputTokenCount);
            Assert.Equal(7, r.Usage.ReasoningTokenCount);
            Assert.Equal(TokenUsageStatus.Ok, r.Status);
            Assert.Equal(OpenAIFixtures.ResponseModel, r.ResponseModel);
        });
    }

    [Fact]
    public async Task ResponsesApiStream_UsageFromResponseCompleted()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(StubHttpHandler.Sse(OpenAIFixtures.ResponsesStream(), [13]))));

        using var response = await client.PostAsync("responses", JsonBody("{\"model\":\"gpt-4.1\",\"input\":\"Say hello\",\"stream\":true}"));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(37, record.Usage.InputTokenCount);
        Assert.Equal(11, record.Usage.OutputTokenCount);
        Assert.Equal(5, record.Usage.CachedInputTokenCount);
        Assert.Equal(3, record.Usage.ReasoningTokenCount);
        Assert.Equal("gpt-4.1-2025-04-14", record.ResponseModel);
        Assert.Equal("resp_67c9fdcecf488190bdd9a0409de3a1ec", record.ResponseId);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal("gpt-4.1", record.RequestModel);
    }

    [Fact]
    public async Task AbandonedStream_IsOneCancelledRecordWithEstimatedUsage()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(OpenAIFixtures.ChatServer(chunkSizes: [40]));

        using (var response = await PostStreamingAsync(client, "chat/completions", JsonBody(OpenAIFixtures.ChatRequest(stream: true))))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[600];
            _ = await body.ReadAtLeastAsync(buffer, 600);
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Cancelled, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal("o200k_base", record.EstimationMethod); // gpt-4o-mini's own encoding: exact counting
        var prompt = TiktokenTokenEstimator.Instance.CountRequest(Encoding.UTF8.GetBytes(OpenAIFixtures.ChatRequest(stream: true)), OpenAIFixtures.Model);
        Assert.Equal(prompt.Tokens, record.Usage.InputTokenCount);
        Assert.True(record.Usage.OutputTokenCount > 0);
    }

    [Fact]
    public async Task StreamCutBeforeTerminalEvent_IsTruncated()
    {
        await using var t = new TestRecorder();
        var cut = OpenAIFixtures.ChatStream(includeUsage: false, cutAfterChunks: 4);
        using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(StubHttpHandler.Sse(cut))), new TokenMetricsHandlerOptions { RequestStreamUsage = false });

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(stream: true)));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Truncated, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
    }

    [Fact]
    public async Task TransportErrorMidStream_ReachesTheAppAsTheSameInstance_AndIsRecorded()
    {
        await using var t = new TestRecorder();
        var failure = new IOException("connection reset");
        using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(StubHttpHandler.Sse(OpenAIFixtures.ChatStream(true, cutAfterChunks: 3), failAtEnd: failure))));

        using var response = await PostStreamingAsync(client, "chat/completions", JsonBody(OpenAIFixtures.ChatRequest(true, "{\"include_usage\":true}")));
        await using var body = await response.Content.ReadAsStreamAsync();
        var thrown = await Assert.ThrowsAsync<IOException>(() => body.CopyToAsync(Stream.Null));

        Assert.Same(failure, thrown);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(typeof(IOException).FullName, record.ErrorType);
    }

    [Fact]
    public async Task SendFailure_ReachesTheCallerAsTheSameInstance_AndIsRecorded()
    {
        await using var t = new TestRecorder();
        var failure = new HttpRequestException("no route");
        using var client = t.CreateClient(new StubHttpHandler((_, _) => throw failure));

        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false))));

        Assert.Same(failure, thrown);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(typeof(HttpRequestException).FullName, record.ErrorType);
        Assert.Equal(TokenUsageSource.Missing, record.Source);
    }

    [Fact]
    public async Task CallerCancellation_ComesThroughAndIsRecordedAsCancelled()
    {
        await using var t = new TestRecorder();
        using var cts = new CancellationTokenSource();
        using var client = t.CreateClient(new StubHttpHandler(async (_, ct) =>
        {
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return StubHttpHandler.Json("{}");
        }));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)), cts.Token));

        Assert.Equal(TokenUsageStatus.Cancelled, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Theory]
    [InlineData("<html><body>502 Bad Gateway</body></html>", "text/html", 502)]
    [InlineData("{\"error\":{\"message\":\"Rate limit\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}", "application/json", 429)]
    public async Task ErrorStatus_IsRecordedAsErrorWithoutGuessedUsage_AndBodyPassesThrough(string body, string mediaType, int status)
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, mediaType) })));

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)));

        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(status, record.HttpStatusCode);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), record.ErrorType);
    }

    [Theory]
    [InlineData("{\"id\":\"x\",\"usage\":{\"prompt_tokens\":")]
    [InlineData("not json at all")]
    [InlineData("{\"usage\":{\"prompt_tokens\":\"abc\",\"completion_tokens\":-4}}")]
    [InlineData("")]
    public async Task MalformedBodies_PassThroughAndGiveAFlaggedRecord(string body)
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(body)));

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)));

        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.NotEqual(TokenUsageSource.Reported, record.Source);
    }

    [Fact]
    public async Task EndlessStream_StaysBoundedAndIsRecordedWhenTheAppStops()
    {
        await using var t = new TestRecorder();
        var chunk = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 1000) + "\"}}]}\n\n");
        using var client = t.CreateClient(new StubHttpHandler((_, _) => Task.FromResult(StubHttpHandler.Sse(chunk, [8192], endless: true))), new TokenMetricsHandlerOptions { RequestStreamUsage = false });

        using (var response = await PostStreamingAsync(client, "chat/completions", JsonBody(OpenAIFixtures.ChatRequest(true))))
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            while (total < 8L * 1024 * 1024)
            {
                total += await body.ReadAsync(buffer);
            }
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Cancelled, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        // Only 1 MiB of text is kept, but the app read 8 MiB: the estimate must cover what was read, not what was kept.
        var keptTokens = TiktokenTokenEstimator.Instance.CountText(new string('x', TokenUsageTextAccumulator.DefaultCapacity), OpenAIFixtures.Model).Tokens;
        Assert.True(record.Usage.OutputTokenCount > 4 * keptTokens, $"estimate {record.Usage.OutputTokenCount} should scale past the kept text's {keptTokens}");
    }

    [Fact]
    public async Task UnmatchedRequests_PassStraightThrough()
    {
        await using var t = new TestRecorder();
        var handler = StubHttpHandler.Returning((_, _) => StubHttpHandler.Json("{\"usage\":{\"prompt_tokens\":1}}"));
        using var client = t.CreateClient(handler);

        using var response = await client.GetAsync("models");
        var content = response.Content;

        Assert.IsType<StringContent>(content);
        Assert.Empty(await t.RecordsAsync());
    }

    [Fact]
    public async Task ResponseContentRead_Default_RecordsWhenHttpClientBuffers()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson(prompt: 5))));

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)));

        // HttpClient buffered the body before returning: the record is complete without the app reading anything.
        Assert.Equal(5, Assert.Single(await t.RecordsAsync(1)).Usage.InputTokenCount);
    }

    [Fact]
    public async Task AzureDeploymentPath_GivesAzureProviderAndDeploymentAsModel()
    {
        await using var t = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson()))));

        using var response = await client.PostAsync("https://contoso.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21", JsonBody("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        _ = await response.Content.ReadAsByteArrayAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("azure.ai.openai", record.Provider);
        Assert.Equal("my-gpt4o", record.RequestModel);
    }

    [Fact]
    public async Task TwoHandlersInOnePipeline_RecordOnce()
    {
        await using var t = new TestRecorder();
        var inner = new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson())));
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], inner)) { BaseAddress = new Uri("https://api.openai.com/v1/") };

        using var response = await client.PostAsync("chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)));
        _ = await response.Content.ReadAsByteArrayAsync();

        Assert.Single(await t.RecordsAsync(1));
    }

    [Fact]
    public async Task SynchronousSend_MetersTheResponse()
    {
        await using var t = new TestRecorder();
        var handler = new SyncOnlyHandler(() => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson(prompt: 11)));
        using var client = t.CreateClient(handler);

        using var response = client.Send(new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonBody(OpenAIFixtures.ChatRequest(false)) });
        using var reader = new StreamReader(response.Content.ReadAsStream());
        Assert.Contains("Hello!", reader.ReadToEnd(), StringComparison.Ordinal);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(11, record.Usage.InputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    private sealed class SyncOnlyHandler(Func<HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => respond();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the synchronous path must be used");
    }

    [Fact]
    public async Task StreamedUpload_IsNeverReadByTokenMetrics_AndArrivesIntact()
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer();
        using var client = t.CreateClient(server);
        var body = Encoding.UTF8.GetBytes(OpenAIFixtures.ChatRequest(stream: false));
        var upload = new ChunkedStream(body, [10]);
        using var content = new StreamContent(upload);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = body.Length;

        using var response = await client.PostAsync("chat/completions", content);
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal(body, server.RequestBodies.Single());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Null(record.RequestModel);
        Assert.Equal(19, record.Usage.InputTokenCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RequestOverTheInspectionLimit_IsSentUntouched(bool knownLength)
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer();
        using var client = t.CreateClient(server, new TokenMetricsHandlerOptions { MaxInspectedRequestBytes = 64 });
        var json = OpenAIFixtures.ChatRequest(stream: true, content: new string('a', 500));
        HttpContent content = knownLength
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : System.Net.Http.Json.JsonContent.Create(JsonDocument.Parse(json).RootElement);

        using var response = await client.PostAsync("chat/completions", content);
        _ = await response.Content.ReadAsStringAsync();

        Assert.False(JsonDocument.Parse(server.RequestBodies.Single()!).RootElement.TryGetProperty("stream_options", out _));
        Assert.Equal(JsonDocument.Parse(json).RootElement.GetRawText(), JsonDocument.Parse(server.RequestBodies.Single()!).RootElement.GetRawText());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Null(record.RequestModel);
    }

    [Fact]
    public async Task ThrowingProtocol_NeverReachesTheApp_AndIsCounted()
    {
        await using var t = new TestRecorder();
        var protocol = new ThrowingProtocol();
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [protocol], StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson()))));

        using var response = await client.PostAsync("https://api.openai.com/v1/chat/completions", JsonBody(OpenAIFixtures.ChatRequest(false)));

        Assert.Contains("Hello!", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        _ = await t.RecordsAsync(1);
        Assert.True(t.Recorder.GetStatistics().InternalErrors >= 2);
    }

    private static Task<HttpResponseMessage> PostStreamingAsync(HttpClient client, string path, HttpContent content) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, HttpCompletionOption.ResponseHeadersRead);

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private sealed class ThrowingProtocol : ITokenUsageProtocol
    {
        public string Name => "boom";

        public bool CanHandle(HttpRequestMessage request) => true;

        public ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken) => throw new InvalidOperationException("request");

        public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response) => new ThrowingReader();
    }

    private sealed class ThrowingReader : TokenUsageResponseReader
    {
        public override void Write(ReadOnlySpan<byte> data) => throw new InvalidOperationException("read");
    }
}

using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests;

public class FailureModeTests
{
    [Fact]
    public async Task HttpError_FromHeader_ReturnsOpenAIErrorJson()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true), (MockHeaders.Status, "500"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.True(IsJsonContent(response));
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }

    [Fact]
    public async Task HttpError_FromModelName_WithRetryAfter()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(model: "mock-error-429"), (MockHeaders.RetryAfter, "3"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task HttpError_HtmlBadGateway_IsNotJson()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(model: "mock-html-502"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var text = Encoding.UTF8.GetString(body);
        Assert.StartsWith("<html>", text, StringComparison.Ordinal);
        Assert.Contains("502 Bad Gateway", text, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));
    }

    [Fact]
    public async Task HttpError_Status200WithCustomErrorBody()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        server.Enqueue(MockScenario.HttpError(200, """{"error":{"message":"quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"""));

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("insufficient_quota", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task InStreamError_SendsErrorEventAfterNChunksAndNoDone()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, model: "mock-stream-error-2"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = Data(body);
        Assert.DoesNotContain("[DONE]", data);
        var json = Json(body);
        Assert.Equal(2, ContentChunkCount(json[..^1]));
        Assert.Equal("server_error", json[^1].GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(json, static j => j.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
    }

    [Fact]
    public async Task Cut_WithoutDone_EndsCleanlyAfterNChunks()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, model: "mock-cut-3"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = Data(body);
        Assert.DoesNotContain("[DONE]", data);
        var json = Json(body);
        Assert.Equal(3, ContentChunkCount(json));
        Assert.All(json, static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.All(json, static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task Cut_WithDone_LooksCompleteButHasNoFinishOrUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, model: "mock-cut-3-done"));

        var data = Data(body);
        Assert.Equal("[DONE]", data[^1]);
        var json = Json(body);
        Assert.Equal(3, ContentChunkCount(json));
        Assert.All(json, static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.All(json, static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task Cut_AbortingTheConnection_FailsTheClientReadAfterTheFirstChunks()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        using var request = Post("v1/chat/completions", ChatBody(stream: true, model: "mock-abort-3"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var (bytes, error) = await ReadUntilEndOrErrorAsync(response);

        Assert.NotNull(error);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("finish_reason\":\"stop", text, StringComparison.Ordinal);
        var complete = text[..(text.LastIndexOf("\n\n", StringComparison.Ordinal) + 2)];
        Assert.Equal(3, ContentChunkCount(Json(Encoding.UTF8.GetBytes(complete))));
    }

    [Fact]
    public async Task Cut_NonStream_TruncatesTheJsonBody()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, full) = await SendAsync(client, "v1/chat/completions", ChatBody());
        var (response, cut) = await SendAsync(client, "v1/chat/completions", ChatBody(), (MockHeaders.CutAfter, "1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(full.Length / 2, cut.Length);
        Assert.Equal(full.AsSpan(0, cut.Length).ToArray(), cut);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(cut));
    }

    [Fact]
    public async Task Gzip_Stream_DecompressesToTheUncompressedStream()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, plain) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true));
        var (response, compressed) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true), (MockHeaders.Gzip, "true"));

        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
        Assert.Equal(new byte[] { 0x1F, 0x8B }, compressed[..2]);
        Assert.Equal(plain, Gunzip(compressed));
    }

    [Fact]
    public async Task Gzip_NonStreamViaModelName_DecompressesToJson()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, compressed) = await SendAsync(client, "v1/chat/completions", ChatBody(model: "gpt-4o-mini+mock-gzip"));

        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
        var root = JsonDocument.Parse(Gunzip(compressed)).RootElement;
        Assert.Equal(TestHelpers.DefaultAnswer, root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task AzureContentFilter_AddsPromptFilterChunkFirstAndFilterResultsChunkLast()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, model: "mock-azure"));

        var json = Json(body);
        var first = json[0];
        Assert.Equal(0, first.GetProperty("choices").GetArrayLength());
        Assert.Equal(string.Empty, first.GetProperty("id").GetString());
        Assert.Equal(0, first.GetProperty("created").GetInt64());
        Assert.True(first.GetProperty("prompt_filter_results")[0].TryGetProperty("content_filter_results", out _));
        var trailing = json[^2].GetProperty("choices")[0];
        Assert.False(trailing.TryGetProperty("delta", out _));
        Assert.True(trailing.TryGetProperty("content_filter_results", out _));
        Assert.True(trailing.TryGetProperty("content_filter_offsets", out _));
        Assert.Equal(JsonValueKind.Object, json[^1].GetProperty("usage").ValueKind);
        Assert.Equal(TestHelpers.DefaultAnswer, ContentOf(json));
    }

    [Fact]
    public async Task Endless_StopsAtMaxDurationAndThenFinishes()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        var stopwatch = Stopwatch.StartNew();

        var (_, body) = await SendAsync(
            client,
            "v1/chat/completions",
            ChatBody(stream: true, includeUsage: true, model: "mock-endless"),
            (MockHeaders.MaxDurationMs, "400"));

        stopwatch.Stop();
        var json = Json(body);
        var sent = ContentChunkCount(json);
        Assert.True(sent > 10, $"an endless stream repeats the 10 answer chunks, got {sent}");
        Assert.Equal("[DONE]", Data(body)[^1]);
        Assert.Equal(sent, json[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Endless_ClientGoingAway_LeavesTheServerUsable()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        using (var request = Post("v1/chat/completions", ChatBody(stream: true, model: "mock-endless")))
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        using (var stream = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[4096];
            var total = 0;
            while (total < 2000)
            {
                var read = await stream.ReadAsync(buffer);
                Assert.True(read > 0, "an endless stream should not end within 2000 bytes");
                total += read;
            }
        }

        var (after, _) = await SendAsync(client, "v1/chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task HugeBody_NonStreamIsAtLeastTheSizeAndParses()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(), (MockHeaders.HugeBytes, "3000000"));

        Assert.True(body.Length >= 3_000_000, $"body is {body.Length} bytes");
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(4, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task HugeBody_StreamSendsFewVeryLargeEvents()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true), (MockHeaders.HugeBytes, "1000000"));

        var events = Events(body);
        Assert.Equal(4, ContentChunkCount(Json(body)));
        Assert.Equal(4, events.Count(static e => e.Length > 200_000));
    }

    [Fact]
    public async Task ChunkDelay_SpacesTheChunksOut()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        const int delayMs = 40;

        using var request = Post("v1/chat/completions", ChatBody(stream: true, model: $"mock-slow-{delayMs}ms+mock-chunks-5"));
        var stopwatch = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var stream = await response.Content.ReadAsStreamAsync();
        var arrivals = new List<TimeSpan>();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            if (Encoding.UTF8.GetString(buffer, 0, read).Contains("\"content\":\"", StringComparison.Ordinal))
            {
                arrivals.Add(stopwatch.Elapsed);
            }
        }

        // Five delays of 40 ms: at least ~160 ms in total; generous upper bound only to catch hangs.
        Assert.True(arrivals.Count >= 2, $"content arrived in {arrivals.Count} reads");
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(delayMs * 5 * 0.8), TimeSpan.FromSeconds(20));
        Assert.Equal(arrivals.Order(), arrivals);
        Assert.True(arrivals[^1] - arrivals[0] >= TimeSpan.FromMilliseconds(delayMs * 0.8), "chunks should arrive spread out, not all at once");
    }

    [Fact]
    public async Task ResponseDelay_DelaysTheHeaders()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var stopwatch = Stopwatch.StartNew();
        using var request = Post("v1/chat/completions", ChatBody(stream: true), (MockHeaders.ResponseDelayMs, "200"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(160), TimeSpan.FromSeconds(20));
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}

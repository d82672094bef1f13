using System.Net;
using System.Text;
using System.Text.Json;
using TokenMetrics.Testing.Internal;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests;

public class ScenarioTests
{
    [Fact]
    public async Task Enqueue_IsFirstInFirstOut_ThenDefaultsApply_AndModelsProbeDoesNotConsumeIt()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        server.Enqueue(MockScenario.HttpError(503));
        server.Enqueue(new MockScenario { PromptTokens = 42 });

        var models = await client.GetAsync("v1/models");
        var (first, _) = await SendAsync(client, "v1/chat/completions", ChatBody());
        var (second, secondBody) = await SendAsync(client, "v1/chat/completions", ChatBody());
        var (_, thirdBody) = await SendAsync(client, "v1/chat/completions", ChatBody());

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(42, JsonDocument.Parse(secondBody).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(16, JsonDocument.Parse(thirdBody).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, server.PendingScenarios);
    }

    [Fact]
    public async Task Headers_BeatModelName_WhichBeatsQueue_WhichBeatsServerDefault()
    {
        await using var server = await MockLlmServer.StartAsync(new MockLlmServerOptions
        {
            DefaultScenario = new MockScenario { PromptTokens = 1, CompletionTokens = 2, CachedTokens = 3, ChunkCount = 2 },
        });
        using var client = CreateClient(server);
        server.Enqueue(new MockScenario { PromptTokens = 10, CompletionTokens = 20, ChunkCount = 5 });

        var (_, body) = await SendAsync(
            client,
            "v1/chat/completions",
            ChatBody(stream: true, includeUsage: true, model: "gpt-4o+mock-chunks-3"),
            (MockHeaders.PromptTokens, "100"));

        var json = Json(body);
        var usage = json[^1].GetProperty("usage");
        Assert.Equal(100, usage.GetProperty("prompt_tokens").GetInt32());                              // header
        Assert.Equal(3, ContentChunkCount(json));                                                       // model name
        Assert.Equal(20, usage.GetProperty("completion_tokens").GetInt32());                           // queue
        Assert.Equal(3, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()); // server default
        Assert.Equal("gpt-4o+mock-chunks-3", json[0].GetProperty("model").GetString());
    }

    [Fact]
    public async Task MalformedHeader_IsRejectedWith400()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(), (MockHeaders.CutAfter, "three"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(MockHeaders.CutAfter, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnswerHeader_IsUrlDecoded()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(), (MockHeaders.Answer, Uri.EscapeDataString("Hi, there & 50% off")));

        Assert.Equal("Hi, there & 50% off", JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("mock-error-500", nameof(MockScenario.ErrorStatusCode), "500")]
    [InlineData("mock-html-502", nameof(MockScenario.ErrorContentType), "text/html")]
    [InlineData("mock-cut-3", nameof(MockScenario.CutAfterChunks), "3")]
    [InlineData("mock-cut-3-done", nameof(MockScenario.CutSendsDone), "True")]
    [InlineData("mock-abort-4", nameof(MockScenario.CutAbortsConnection), "True")]
    [InlineData("mock-stream-error-2", nameof(MockScenario.StreamErrorAfterChunks), "2")]
    [InlineData("mock-slow-50ms", nameof(MockScenario.ChunkDelay), "00:00:00.0500000")]
    [InlineData("mock-chunks-7", nameof(MockScenario.ChunkCount), "7")]
    [InlineData("mock-gzip", nameof(MockScenario.Gzip), "True")]
    [InlineData("mock-azure", nameof(MockScenario.AzureContentFilter), "True")]
    [InlineData("mock-endless", nameof(MockScenario.Endless), "True")]
    [InlineData("mock-tools", nameof(MockScenario.ToolCalls), "True")]
    [InlineData("mock-huge-5000000", nameof(MockScenario.HugeBodyBytes), "5000000")]
    [InlineData("mock-split-7", nameof(MockScenario.SplitWritesBytes), "7")]
    [InlineData("gpt-4o+mock-cut-3", nameof(MockScenario.CutAfterChunks), "3")]
    public void FromModelName_SetsTheConvention(string model, string property, string expected)
    {
        var scenario = ScenarioResolver.FromModelName(model);

        var value = typeof(MockScenario).GetProperty(property)!.GetValue(scenario);
        Assert.Equal(expected, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("gpt-4o-mini")]
    [InlineData("mock-model")]
    [InlineData("mock-cut-x")]
    [InlineData("")]
    public void FromModelName_IgnoresOtherNames(string model)
    {
        var scenario = ScenarioResolver.FromModelName(model);

        Assert.Equivalent(new MockScenario(), scenario);
    }

    [Fact]
    public async Task Requests_AreRecordedWithMethodPathQueryHeadersAndBody()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        var json = ChatBody(stream: true, includeUsage: true);

        using (var request = Post("v1/chat/completions?api-version=2024-10-21", json, ("x-custom", "abc")))
        {
            using var response = await client.SendAsync(request);
        }

        await client.GetAsync("v1/models");

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        var first = requests[0];
        Assert.Equal(0, first.Sequence);
        Assert.Equal("POST", first.Method);
        Assert.Equal("/v1/chat/completions", first.Path);
        Assert.Equal("?api-version=2024-10-21", first.QueryString);
        Assert.Equal("abc", first.GetHeader("X-Custom"));
        Assert.StartsWith("application/json", first.Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetBytes(json), first.Body.ToArray());
        using (var document = first.ParseBody())
        {
            Assert.True(document.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        }

        Assert.Equal("GET", requests[1].Method);
        Assert.Equal(0, requests[1].Body.Length);

        server.Reset();
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task BaseAddress_IsLoopbackWithAPort()
    {
        await using var server = await MockLlmServer.StartAsync();

        Assert.Equal("127.0.0.1", server.BaseAddress.Host);
        Assert.NotEqual(0, server.BaseAddress.Port);
        Assert.Equal("/", server.BaseAddress.AbsolutePath);
    }

    [Fact]
    public async Task Http2_PriorKnowledge_Streams()
    {
        await using var server = await MockLlmServer.StartAsync(new MockLlmServerOptions { Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 });
        using var client = new HttpClient
        {
            BaseAddress = server.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var request = Post("v1/chat/completions", ChatBody(stream: true, includeUsage: true));
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("[DONE]", Data(body)[^1]);
        Assert.Equal(DefaultAnswer, ContentOf(Json(body)));
    }
}

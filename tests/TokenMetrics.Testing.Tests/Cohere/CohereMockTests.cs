using System.IO.Compression;
using System.Net;
using System.Text.Json;
using TokenMetrics.Testing.Internal;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.Cohere;

/// <summary>The Cohere v2 mock's wire format: chat JSON, the SSE event sequence, usage placement, scenarios, embed.</summary>
public class CohereMockTests
{
    private const string Body = """{"model":"command-a-03-2025","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Héllo, 世界"}]}]}""";

    private static string StreamBody(string model = "command-a-03-2025") =>
        "{\"model\":\"" + model + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

    /// <summary>(event name, JSON) of each SSE event; checks that the <c>event:</c> name equals the JSON's <c>type</c>.</summary>
    private static List<(string Name, JsonElement Json)> CohereEvents(byte[] body)
    {
        var events = new List<(string, JsonElement)>();
        foreach (var e in Events(body))
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            var name = lines[0]["event: ".Length..];
            var json = JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone();
            Assert.Equal(name, json.GetProperty("type").GetString());
            events.Add((name, json));
        }

        return events;
    }

    [Fact]
    public async Task Chat_NonStreamed_HasMessageFinishReasonAndBothUsages()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v2/chat", Body, (MockHeaders.PromptTokens, "17"), (MockHeaders.CompletionTokens, "12"), (MockHeaders.CachedTokens, "4"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(IsJsonContent(response));
        var root = JsonDocument.Parse(body).RootElement;
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.Equal("assistant", root.GetProperty("message").GetProperty("role").GetString());
        var content = Assert.Single(root.GetProperty("message").GetProperty("content").EnumerateArray());
        Assert.Equal("text", content.GetProperty("type").GetString());
        Assert.Equal(DefaultAnswer, content.GetProperty("text").GetString());
        Assert.Equal("COMPLETE", root.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(17, usage.GetProperty("billed_units").GetProperty("input_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("billed_units").GetProperty("output_tokens").GetInt32());
        Assert.Equal(17 + CohereMockProtocol.TemplateTokens, usage.GetProperty("tokens").GetProperty("input_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("tokens").GetProperty("output_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_DerivedCounts_FollowTheSharedRule_AndIdsAreDeterministic()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, first) = await SendAsync(client, "v2/chat", Body);
        var (_, second) = await SendAsync(client, "v2/chat", Body);

        Assert.Equal(first, second);
        var usage = JsonDocument.Parse(first).RootElement.GetProperty("usage").GetProperty("billed_units");
        // "Be brief." (9 bytes → 3) + 3, "Héllo, 世界" (14 bytes → 4) + 3, + 3; one output token per word of the answer.
        Assert.Equal(3 + 3 + 4 + 3 + 3, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_Stream_HasCohereEventSequence_UsageOnlyInMessageEnd()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v2/chat", StreamBody(), (MockHeaders.PromptTokens, "21"), (MockHeaders.Chunks, "3"));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = CohereEvents(body);
        Assert.Equal(["message-start", "content-start", "content-delta", "content-delta", "content-delta", "content-end", "message-end"], events.Select(e => e.Name));
        Assert.True(Guid.TryParse(events[0].Json.GetProperty("id").GetString(), out _));
        Assert.Equal("assistant", events[0].Json.GetProperty("delta").GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(DefaultAnswer, string.Concat(events.Where(e => e.Name == "content-delta").Select(e => e.Json.GetProperty("delta").GetProperty("message").GetProperty("content").GetProperty("text").GetString())));
        Assert.All(events.Take(6), e => Assert.False(e.Json.TryGetProperty("usage", out _) || (e.Json.TryGetProperty("delta", out var d) && d.TryGetProperty("usage", out _))));
        var end = events[^1].Json.GetProperty("delta");
        Assert.Equal("COMPLETE", end.GetProperty("finish_reason").GetString());
        Assert.Equal(21, end.GetProperty("usage").GetProperty("billed_units").GetProperty("input_tokens").GetInt32());
        Assert.Equal(3, end.GetProperty("usage").GetProperty("billed_units").GetProperty("output_tokens").GetInt32());
        Assert.Equal(21 + CohereMockProtocol.TemplateTokens, end.GetProperty("usage").GetProperty("tokens").GetProperty("input_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_StreamCut_EndsAfterNDeltas_WithoutMessageEnd()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v2/chat", StreamBody("command-a-03-2025+mock-cut-2"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["message-start", "content-start", "content-delta", "content-delta"], CohereEvents(body).Select(e => e.Name));
    }

    [Fact]
    public async Task Chat_StreamCutDone_SendsMessageEndWithoutUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v2/chat", StreamBody("command-a-03-2025+mock-cut-1-done"));

        var events = CohereEvents(body);
        Assert.Equal(["message-start", "content-start", "content-delta", "message-end"], events.Select(e => e.Name));
        Assert.False(events[^1].Json.GetProperty("delta").TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task Chat_StreamError_EndsWithAnErrorMessageEnd()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v2/chat", StreamBody(), (MockHeaders.StreamErrorAfter, "1"));

        var events = CohereEvents(body);
        Assert.Equal(["message-start", "content-start", "content-delta", "message-end"], events.Select(e => e.Name));
        var delta = events[^1].Json.GetProperty("delta");
        Assert.Equal("ERROR", delta.GetProperty("finish_reason").GetString());
        Assert.False(string.IsNullOrEmpty(delta.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Chat_GzipStream_DecompressesToTheSameEvents()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, plain) = await SendAsync(client, "v2/chat", StreamBody());
        var (response, compressed) = await SendAsync(client, "v2/chat", StreamBody(), (MockHeaders.Gzip, "true"));

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        await input.CopyToAsync(output);
        Assert.Equal(plain, output.ToArray());
    }

    [Fact]
    public async Task Chat_HttpError_IsInCohereShape_AndBadRequestsAre400()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (error, errorBody) = await SendAsync(client, "v2/chat", Body, (MockHeaders.Status, "429"));
        var (invalid, invalidBody) = await SendAsync(client, "v2/chat", """{"messages":[]}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        var root = JsonDocument.Parse(errorBody).RootElement;
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("model", JsonDocument.Parse(invalidBody).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embed_ReportsBilledInputTokensInMeta()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v2/embed", """{"model":"embed-v4.0","texts":["hello world","bonjour"],"input_type":"search_document","embedding_types":["float"]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(2, root.GetProperty("embeddings").GetProperty("float").GetArrayLength());
        Assert.Equal("embeddings_by_type", root.GetProperty("response_type").GetString());
        // ceil(11 / 4) + ceil(7 / 4)
        Assert.Equal(3 + 2, root.GetProperty("meta").GetProperty("billed_units").GetProperty("input_tokens").GetInt32());
    }

    [Fact]
    public async Task UnknownV2Path_Is404()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, _) = await SendAsync(client, "v2/rerank", """{"model":"rerank-v3.5"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

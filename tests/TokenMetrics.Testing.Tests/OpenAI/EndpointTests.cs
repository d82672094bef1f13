using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.OpenAI;

public class EndpointTests
{
    private const string ResponsesBody = """{"model":"gpt-4.1-mini","instructions":"Be terse.","input":"Hello there"}""";
    private const string ResponsesStreamBody = """{"model":"gpt-4.1-mini","instructions":"Be terse.","input":"Hello there","stream":true}""";

    // "Be terse." = 9 bytes -> 3 + 3; "Hello there" = 11 bytes -> 3 + 3; plus 3.
    private const int ResponsesInputTokens = 15;

    [Fact]
    public async Task Responses_NonStream_ReturnsResponseWithUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/responses", ResponsesBody, (MockHeaders.CachedTokens, "4"), (MockHeaders.ReasoningTokens, "6"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("response", root.GetProperty("object").GetString());
        Assert.StartsWith("resp_", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("completed", root.GetProperty("status").GetString());
        var message = Assert.Single(root.GetProperty("output").EnumerateArray());
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(DefaultAnswer, message.GetProperty("content")[0].GetProperty("text").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(ResponsesInputTokens, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(16, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal(ResponsesInputTokens + 16, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Responses_Stream_SendsNamedEventsInOrderEndingWithCompleted()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/responses", ResponsesStreamBody);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ParseNamedEvents(body);
        var names = events.Select(static e => e.Name).Distinct().ToList();
        Assert.Equal(
            new[] { "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed" },
            names);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i].Name, events[i].Data.GetProperty("type").GetString());
            Assert.Equal(i, events[i].Data.GetProperty("sequence_number").GetInt32());
        }

        var deltas = string.Concat(events.Where(static e => e.Name == "response.output_text.delta").Select(static e => e.Data.GetProperty("delta").GetString()));
        Assert.Equal(DefaultAnswer, deltas);
        Assert.Equal(JsonValueKind.Null, events[0].Data.GetProperty("response").GetProperty("usage").ValueKind);
        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(ResponsesInputTokens, completed.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, completed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal(DefaultAnswer, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Responses_StreamError_EndsWithResponseFailed()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/responses", ResponsesStreamBody, (MockHeaders.StreamErrorAfter, "2"));

        var events = ParseNamedEvents(body);
        Assert.Equal(2, events.Count(static e => e.Name == "response.output_text.delta"));
        Assert.Equal("response.failed", events[^1].Name);
        var failed = events[^1].Data.GetProperty("response");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("server_error", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(events, static e => e.Name == "response.completed");
    }

    [Fact]
    public async Task Responses_CutWithDone_EndsWithResponseIncomplete_AndWithoutDone_JustStops()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, withDone) = await SendAsync(client, "v1/responses", ResponsesStreamBody, (MockHeaders.CutAfter, "3"), (MockHeaders.CutDone, "true"));
        var (_, withoutDone) = await SendAsync(client, "v1/responses", ResponsesStreamBody, (MockHeaders.CutAfter, "3"));

        var events = ParseNamedEvents(withDone);
        Assert.Equal("response.incomplete", events[^1].Name);
        var incomplete = events[^1].Data.GetProperty("response");
        Assert.Equal("max_output_tokens", incomplete.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(3, incomplete.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        var cut = ParseNamedEvents(withoutDone);
        Assert.Equal("response.output_text.delta", cut[^1].Name);
        Assert.Equal(3, cut.Count(static e => e.Name == "response.output_text.delta"));
    }

    [Fact]
    public async Task Completions_NonStreamAndStream_WithAndWithoutIncludeUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        const string prompt = """{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test"}""";

        var (_, plain) = await SendAsync(client, "v1/completions", prompt);
        var (_, stream) = await SendAsync(client, "v1/completions", prompt[..^1] + ""","stream":true}""");
        var (_, streamUsage) = await SendAsync(client, "v1/completions", prompt[..^1] + ""","stream":true,"stream_options":{"include_usage":true}}""");

        var root = JsonDocument.Parse(plain).RootElement;
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.Equal(DefaultAnswer, root.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(5, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32()); // 18 bytes -> 5
        Assert.Equal(10, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        Assert.DoesNotContain("usage", Encoding.UTF8.GetString(stream), StringComparison.Ordinal);
        var chunks = Json(stream);
        Assert.Equal(DefaultAnswer, string.Concat(chunks.Select(static c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("[DONE]", Data(stream)[^1]);

        var withUsage = Json(streamUsage);
        Assert.Equal(0, withUsage[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(15, withUsage[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.All(withUsage[..^1], static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task Embeddings_FloatAndBase64_WithUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, floats) = await SendAsync(client, "v1/embeddings", """{"model":"text-embedding-3-small","input":["hello world","second input"],"dimensions":16}""");
        var (_, base64) = await SendAsync(client, "v1/embeddings", """{"model":"text-embedding-3-small","input":["hello world","second input"],"dimensions":16,"encoding_format":"base64"}""");

        var root = JsonDocument.Parse(floats).RootElement;
        Assert.Equal("list", root.GetProperty("object").GetString());
        Assert.Equal(2, root.GetProperty("data").GetArrayLength());
        var vector = root.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(static v => v.GetSingle()).ToArray();
        Assert.Equal(16, vector.Length);
        var usage = root.GetProperty("usage");
        Assert.Equal(3 + 3, usage.GetProperty("prompt_tokens").GetInt32()); // 11 and 12 bytes -> 3 + 3
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        var encoded = Convert.FromBase64String(JsonDocument.Parse(base64).RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, encoded.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(encoded.AsSpan(i * 4))).ToArray();
        Assert.Equal(vector, decoded);
    }

    [Fact]
    public async Task Models_ListAndGet()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var list = JsonDocument.Parse(await client.GetByteArrayAsync("v1/models")).RootElement;
        var one = JsonDocument.Parse(await client.GetByteArrayAsync("v1/models/gpt-4o-mini")).RootElement;

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Contains(list.GetProperty("data").EnumerateArray(), static m => m.GetProperty("id").GetString() == "gpt-4o-mini");
        Assert.Equal("model", one.GetProperty("object").GetString());
        Assert.Equal("gpt-4o-mini", one.GetProperty("id").GetString());
    }

    [Fact]
    public async Task UnknownPath_Returns404OpenAIError()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/nope", "{}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("Invalid URL (POST /v1/nope)", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task InvalidJson_Returns400()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", "{not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    private static List<(string Name, JsonElement Data)> ParseNamedEvents(byte[] body) =>
        Events(body).Select(static e =>
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            return (lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone());
        }).ToList();
}

using System.Net;
using System.Text;
using System.Text.Json;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.OpenAI;

public class ChatCompletionsTests
{
    // "You are terse." = 14 bytes -> 4 + 3; "Hello there" = 11 bytes -> 3 + 3; plus 3.
    private const int ExpectedPromptTokens = 16;

    // One chunk per word of the default answer.
    private const int ExpectedCompletionTokens = 10;

    private const string WeatherTool = """[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"location":{"type":"string"},"days":{"type":"integer"}},"required":["location"]}}}]""";

    [Fact]
    public async Task NonStream_Default_ReturnsChatCompletionWithFullUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(IsJsonContent(response));
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("gpt-4o-mini", root.GetProperty("model").GetString());
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(DefaultAnswer, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(ExpectedPromptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(ExpectedCompletionTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(ExpectedPromptTokens + ExpectedCompletionTokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("audio_tokens").GetInt32());
        var completionDetails = usage.GetProperty("completion_tokens_details");
        foreach (var name in new[] { "reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens" })
        {
            Assert.Equal(0, completionDetails.GetProperty(name).GetInt32());
        }
    }

    [Fact]
    public async Task NonStream_ConfiguredUsage_ReportsThoseNumbers()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(
            client,
            "v1/chat/completions",
            ChatBody(),
            (MockHeaders.PromptTokens, "100"),
            (MockHeaders.CompletionTokens, "50"),
            (MockHeaders.CachedTokens, "40"),
            (MockHeaders.ReasoningTokens, "20"));

        var usage = JsonDocument.Parse(body).RootElement.GetProperty("usage");
        Assert.Equal(100, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(50, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(150, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(40, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(20, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task NonStream_ReasoningWithoutCompletion_CountsReasoningInCompletion()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(), (MockHeaders.ReasoningTokens, "7"));

        var usage = JsonDocument.Parse(body).RootElement.GetProperty("usage");
        Assert.Equal(ExpectedCompletionTokens + 7, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_WithoutIncludeUsage_HasNoUsageAnywhere()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("usage", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        var data = Data(body);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = Json(body);
        Assert.All(chunks, static c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(DefaultAnswer, ContentOf(chunks));
        Assert.Equal(ExpectedCompletionTokens, ContentChunkCount(chunks));
        var last = chunks[^1].GetProperty("choices")[0];
        Assert.Equal("stop", last.GetProperty("finish_reason").GetString());
        Assert.Empty(last.GetProperty("delta").EnumerateObject());
        Assert.All(chunks[..^1], static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
    }

    [Fact]
    public async Task Stream_IncludeUsageFalse_IsTheSameAsWithoutStreamOptions()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, without) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true));
        var (_, explicitFalse) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: false));

        Assert.Equal(without, explicitFalse);
    }

    [Fact]
    public async Task Stream_WithIncludeUsage_EveryChunkHasUsageNullAndAUsageChunkComesBeforeDone()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true));

        var data = Data(body);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = Json(body);
        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        var usage = usageChunk.GetProperty("usage");
        Assert.Equal(ExpectedPromptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(ExpectedCompletionTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(ExpectedPromptTokens + ExpectedCompletionTokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.True(usage.TryGetProperty("prompt_tokens_details", out _));
        Assert.True(usage.TryGetProperty("completion_tokens_details", out _));
        Assert.All(chunks[..^1], static c =>
        {
            Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind);
            Assert.Equal(1, c.GetProperty("choices").GetArrayLength());
        });
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(DefaultAnswer, ContentOf(chunks));
    }

    [Fact]
    public async Task Stream_WithIncludeUsage_StrippedOfUsage_IsByteIdenticalToStreamWithout()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, plain) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true));
        var (_, withUsage) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true));

        Assert.NotEqual(plain, withUsage);
        var stripped = new StringBuilder();
        foreach (var evt in Events(withUsage))
        {
            var payload = evt["data: ".Length..];
            if (payload != "[DONE]")
            {
                var root = JsonDocument.Parse(payload).RootElement;
                if (root.GetProperty("choices").GetArrayLength() == 0 && root.GetProperty("usage").ValueKind == JsonValueKind.Object)
                {
                    continue;
                }

                Assert.EndsWith(",\"usage\":null}", payload, StringComparison.Ordinal);
                payload = payload[..^",\"usage\":null}".Length] + "}";
            }

            stripped.Append("data: ").Append(payload).Append("\n\n");
        }

        Assert.Equal(Encoding.UTF8.GetString(plain), stripped.ToString());
        Assert.Equal(plain, Encoding.UTF8.GetBytes(stripped.ToString()));
    }

    [Fact]
    public async Task Stream_SameRequestTwice_IsByteIdentical_AndAnotherPromptGetsAnotherId()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, first) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true));
        var (_, second) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true));
        var (_, other) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, user: "Something else"));
        var (_, nonStream) = await SendAsync(client, "v1/chat/completions", ChatBody());

        Assert.Equal(first, second);
        var id = Json(first)[0].GetProperty("id").GetString();
        Assert.NotEqual(id, Json(other)[0].GetProperty("id").GetString());
        Assert.Equal(id, JsonDocument.Parse(nonStream).RootElement.GetProperty("id").GetString());
        Assert.Equal(Json(first)[0].GetProperty("created").GetInt64(), JsonDocument.Parse(nonStream).RootElement.GetProperty("created").GetInt64());
    }

    [Fact]
    public async Task IdAndCreated_CanBePinned()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true), (MockHeaders.Id, "chatcmpl-pinned"), (MockHeaders.Created, "1700000000"));

        Assert.All(Json(body), static c =>
        {
            Assert.Equal("chatcmpl-pinned", c.GetProperty("id").GetString());
            Assert.Equal(1700000000, c.GetProperty("created").GetInt64());
        });
    }

    [Fact]
    public async Task Stream_NonAsciiAnswer_IsRawUtf8AndSurvivesSplitWrites()
    {
        const string answer = "Grüße ✅ naïve 日本語 🚀 done";
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        var encoded = Uri.EscapeDataString(answer);

        var (_, whole) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true), (MockHeaders.Answer, encoded));
        var (_, split) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true), (MockHeaders.Answer, encoded), (MockHeaders.SplitBytes, "3"));

        Assert.Equal(whole, split);
        Assert.Contains("✅", Encoding.UTF8.GetString(whole), StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", Encoding.UTF8.GetString(whole), StringComparison.Ordinal);
        Assert.Equal(answer, ContentOf(Json(split)));
    }

    [Fact]
    public async Task ChunkCount_SplitsTheAnswerIntoThatManyChunks()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true), (MockHeaders.Chunks, "3"));

        var chunks = Json(body);
        Assert.Equal(3, ContentChunkCount(chunks));
        Assert.Equal(DefaultAnswer, ContentOf(chunks));
        Assert.Equal(3, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ToolCalls_NonStream_CallsTheToolWithSchemaArguments()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v1/chat/completions", ChatBody(tools: WeatherTool), (MockHeaders.ToolCalls, "true"));

        var choice = JsonDocument.Parse(body).RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement;
        Assert.Equal("mock-location", arguments.GetProperty("location").GetString());
        Assert.Equal(1, arguments.GetProperty("days").GetInt32());
    }

    [Fact]
    public async Task ToolCalls_Stream_SendsIndexKeyedFragmentsThatReassemble()
    {
        var twoTools = WeatherTool[..^1] + """,{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}}]""";
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, nonStream) = await SendAsync(client, "v1/chat/completions", ChatBody(tools: twoTools, model: "gpt-4o+mock-tools"));
        var (_, stream) = await SendAsync(client, "v1/chat/completions", ChatBody(stream: true, includeUsage: true, tools: twoTools, model: "gpt-4o+mock-tools"));

        var expected = JsonDocument.Parse(nonStream).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls");
        var names = new Dictionary<int, string>();
        var ids = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        var fragments = new Dictionary<int, int>();
        string? finish = null;
        foreach (var chunk in Json(stream))
        {
            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
                {
                    finish = choice.GetProperty("finish_reason").GetString();
                }

                if (!choice.GetProperty("delta").TryGetProperty("tool_calls", out var calls))
                {
                    continue;
                }

                foreach (var call in calls.EnumerateArray())
                {
                    var index = call.GetProperty("index").GetInt32();
                    if (call.TryGetProperty("id", out var id))
                    {
                        ids[index] = id.GetString()!;
                        names[index] = call.GetProperty("function").GetProperty("name").GetString()!;
                    }

                    var fragment = call.GetProperty("function").GetProperty("arguments").GetString()!;
                    arguments.TryAdd(index, new StringBuilder());
                    arguments[index].Append(fragment);
                    if (fragment.Length > 0)
                    {
                        fragments[index] = fragments.GetValueOrDefault(index) + 1;
                    }
                }
            }
        }

        Assert.Equal("tool_calls", finish);
        Assert.Equal(expected.GetArrayLength(), arguments.Count);
        Assert.Equal(2, arguments.Count);
        for (var i = 0; i < expected.GetArrayLength(); i++)
        {
            Assert.Equal(expected[i].GetProperty("id").GetString(), ids[i]);
            Assert.Equal(expected[i].GetProperty("function").GetProperty("name").GetString(), names[i]);
            Assert.Equal(expected[i].GetProperty("function").GetProperty("arguments").GetString(), arguments[i].ToString());
            Assert.True(fragments[i] >= 2, "arguments should be split across chunks");
        }
    }
}

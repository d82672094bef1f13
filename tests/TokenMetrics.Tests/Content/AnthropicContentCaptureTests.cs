using System.Text;
using TokenMetrics.Tests.Http;

namespace TokenMetrics.Tests.Content;

public class AnthropicContentCaptureTests
{
    private const string Request = """{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Weather in Beijing?"}]},{"role":"assistant","content":"Let me check."},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t0","content":"sunny"},{"type":"text","text":"And tomorrow?"}]}]}""";

    private static readonly string Stream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":25,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants "}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a forecast."}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking the forecast."}}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_forecast","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"locat"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ion\": \"Bei"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"jing\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}}

        event: message_stop
        data: {"type":"message_stop"}


        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static HttpClient Client(TestRecorder t, HttpMessageHandler primary) =>
        new(new TokenMetricsHandler(t.Recorder, [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol()], primary)) { BaseAddress = new Uri("https://api.anthropic.com/v1/") };

    [Fact]
    public async Task ThinkingTextAndToolUse_FromTheStream_SplitAtEveryByte()
    {
        await using var t = new TestRecorder(o => { o.CaptureContent = true; o.MaxQueueSize = 4096; });
        var body = Encoding.UTF8.GetBytes(Stream);
        for (var split = 1; split < body.Length; split += 3)
        {
            var at = split;
            using var client = Client(t, StubHttpHandler.Returning((_, _) => StubHttpHandler.Sse(body, [at, body.Length])));
            using var answer = await client.PostAsync("messages", new StringContent(Request, Encoding.UTF8, "application/json"));
            _ = await TokenMetricsHandlerTests.ReadAllInOddReadsAsync(answer);
        }

        var expected = (body.Length - 1 + 2) / 3;
        var records = await t.RecordsAsync(expected);
        Assert.Equal(expected, records.Count);
        Assert.All(records, record =>
        {
            Assert.Equal("anthropic", record.Provider);
            Assert.Equal(TokenUsageStatus.Ok, record.Status);
            Assert.Equal(25, record.Usage.InputTokenCount);
            Assert.Equal(40, record.Usage.OutputTokenCount);
            var content = record.Content!;
            Assert.Equal("And tomorrow?", content.Question);
            Assert.Equal("The user wants a forecast.", content.Reasoning);
            Assert.Equal("Checking the forecast.", content.Answer);
            var call = Assert.Single(content.ToolCalls!);
            Assert.Equal((2, "toolu_01", "function", "get_forecast", """{"location": "Beijing"}"""), (call.Index, call.Id, call.Type, call.Name, call.Arguments));
        });
    }

    [Fact]
    public async Task NonStreamedMessage_ToolUseInputKeptAsJson()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        const string Json = """{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"thinking","thinking":"Hmm.","signature":"s"},{"type":"text","text":"Sure."},{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"location":"Beijing","unit":"c"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":20}}""";
        using var client = Client(t, StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(Json)));
        using var answer = await client.PostAsync("messages", new StringContent(Request.Replace("\"stream\":true,", "", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        _ = await answer.Content.ReadAsByteArrayAsync();

        var content = Assert.Single(await t.RecordsAsync(1)).Content!;
        Assert.Equal(("And tomorrow?", "Sure.", "Hmm."), (content.Question, content.Answer, content.Reasoning));
        var call = Assert.Single(content.ToolCalls!);
        Assert.Equal((2, "toolu_02", "get_weather", """{"location":"Beijing","unit":"c"}"""), (call.Index, call.Id, call.Name, call.Arguments));
    }
}

using System.Net;
using System.Text;
using TokenMetrics.Tests.Http;

namespace TokenMetrics.Tests.Content;

public class HttpContentCaptureTests
{
    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<TokenUsageRecord> CallAsync(TestRecorder t, string request, HttpResponseMessage response, string url = "chat/completions")
    {
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => response));
        using var answer = await client.PostAsync(url, JsonBody(request));
        _ = await TokenMetricsHandlerTests.ReadAllInOddReadsAsync(answer);
        return (await t.RecordsAsync(1))[^1];
    }

    [Fact]
    public async Task CaptureOff_ByDefault_RecordHasNoContent()
    {
        await using var t = new TestRecorder();
        var record = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));

        Assert.Equal(35, record.Usage.TotalTokenCount);
        Assert.Null(record.Content);
    }

    [Fact]
    public async Task StreamedToolCall_QuestionAndAssembledCall()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var record = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));

        Assert.Equal(35, record.Usage.TotalTokenCount);
        Assert.Equal("What is the weather in Beijing?", record.Content!.Question);
        Assert.Null(record.Content.Answer);
        var call = Assert.Single(record.Content.ToolCalls!);
        Assert.Equal(("call_abc123", "get_weather", """{"location": "Beijing"}"""), (call.Id, call.Name, call.Arguments));
    }

    [Fact]
    public async Task StreamedToolCall_SplitAtEveryByte_AssemblesTheSameCall()
    {
        await using var t = new TestRecorder(o => { o.CaptureContent = true; o.MaxQueueSize = 4096; });
        var body = ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall);
        for (var split = 1; split < body.Length; split++)
        {
            var at = split;
            using var splitClient = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Sse(body, [at, body.Length])));
            using var answer = await splitClient.PostAsync("chat/completions", JsonBody(ContentTestKit.WeatherRequest));
            Assert.Equal(body, await answer.Content.ReadAsByteArrayAsync());
        }

        var records = await t.RecordsAsync(body.Length - 1);
        Assert.Equal(body.Length - 1, records.Count);
        Assert.All(records, r =>
        {
            var call = Assert.Single(r.Content!.ToolCalls!);
            Assert.Equal(("call_abc123", "function", "get_weather", """{"location": "Beijing"}"""), (call.Id, call.Type, call.Name, call.Arguments));
            Assert.Equal(35, r.Usage.TotalTokenCount);
        });
    }

    [Fact]
    public async Task DeepSeekReasoningContent_IsReasoning_ContentIsAnswer()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var body = ContentTestKit.Sse(
            """{"id":"1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"The user asks "}}]}""",
            """{"id":"1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"for 2+2.\nIt is 4."}}]}""",
            """{"id":"1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"2+2 ","reasoning_content":null}}]}""",
            """{"id":"1","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"equals \"4\"."},"finish_reason":"stop"}],"usage":{"prompt_tokens":15,"completion_tokens":25,"total_tokens":40}}""",
            "[DONE]");
        var record = await CallAsync(t, """{"model":"deepseek-reasoner","stream":true,"messages":[{"role":"user","content":"What is 2+2?"}]}""", StubHttpHandler.Sse(body));

        Assert.Equal("What is 2+2?", record.Content!.Question);
        Assert.Equal("The user asks for 2+2.\nIt is 4.", record.Content.Reasoning);
        Assert.Equal("2+2 equals \"4\".", record.Content.Answer);
        Assert.Null(record.Content.ToolCalls);
    }

    [Fact]
    public async Task NonStreamedReasoningAndAnswer()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var record = await CallAsync(t, """{"model":"deepseek-reasoner","messages":[{"role":"user","content":[{"type":"text","text":"What is"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"2+2?"}]}]}""",
            StubHttpHandler.Json("""{"id":"1","model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"Simple sum."},"finish_reason":"stop"}],"usage":{"prompt_tokens":15,"completion_tokens":25,"total_tokens":40}}"""));

        Assert.Equal("What is\n2+2?", record.Content!.Question);
        Assert.Equal("4", record.Content.Answer);
        Assert.Equal("Simple sum.", record.Content.Reasoning);
    }

    [Fact]
    public async Task ResponsesApi_StreamedTextReasoningAndFunctionCall()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var sse = """
            event: response.created
            data: {"type":"response.created","response":{"id":"resp_1","model":"gpt-5"}}

            event: response.reasoning_summary_text.delta
            data: {"type":"response.reasoning_summary_text.delta","output_index":0,"delta":"Need weather."}

            event: response.output_item.added
            data: {"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"get_weather","arguments":""}}

            event: response.function_call_arguments.delta
            data: {"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"city\":"}

            event: response.function_call_arguments.delta
            data: {"type":"response.function_call_arguments.delta","output_index":1,"delta":"\"Paris\"}"}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","output_index":2,"delta":"Checking."}

            event: response.completed
            data: {"type":"response.completed","response":{"id":"resp_1","model":"gpt-5","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}


            """.Replace("\r\n", "\n", StringComparison.Ordinal);
        var record = await CallAsync(t, """{"model":"gpt-5","stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"Weather in Paris?"}]}]}""",
            StubHttpHandler.Sse(Encoding.UTF8.GetBytes(sse)), "responses");

        Assert.Equal("Weather in Paris?", record.Content!.Question);
        Assert.Equal("Need weather.", record.Content.Reasoning);
        Assert.Equal("Checking.", record.Content.Answer);
        var call = Assert.Single(record.Content.ToolCalls!);
        Assert.Equal((1, "call_9", "get_weather", """{"city":"Paris"}"""), (call.Index, call.Id, call.Name, call.Arguments));
    }

    [Fact]
    public async Task LongAnswer_IsCutInTheMiddle()
    {
        await using var t = new TestRecorder(o => { o.CaptureContent = true; o.Content.MaxLength = 20; });
        var chunks = Enumerable.Range(0, 500).Select(i => $$$"""{"choices":[{"index":0,"delta":{"content":"{{{(char)('a' + (i % 26))}}}"}}]}""")
            .Append("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":500,"total_tokens":501}}""")
            .Append("[DONE]").ToArray();
        var record = await CallAsync(t, """{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"letters"}]}""", StubHttpHandler.Sse(ContentTestKit.Sse(chunks)));

        var expected = string.Concat(Enumerable.Range(0, 500).Select(i => (char)('a' + (i % 26))));
        Assert.Equal(expected[..10] + " [truncated] " + expected[^10..], record.Content!.Answer);
    }

    [Fact]
    public async Task Redactor_RunsOnEveryText_BeforeTheCut()
    {
        var seen = new List<TokenUsageContentPart>();
        await using var t = new TestRecorder(o =>
        {
            o.CaptureContent = true;
            o.Content.Redactor = (part, text) =>
            {
                lock (seen)
                {
                    seen.Add(part);
                }

                return text.Replace("Beijing", "[city]", StringComparison.Ordinal);
            };
        });
        var record = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));

        Assert.Equal("What is the weather in [city]?", record.Content!.Question);
        Assert.Equal("""{"location": "[city]"}""", record.Content.ToolCalls![0].Arguments);
        Assert.Equal([TokenUsageContentPart.Question, TokenUsageContentPart.ToolCallArguments], seen.Order());
    }

    [Fact]
    public async Task ThrowingRedactor_DropsTheText_AndIsCounted_CallUnaffected()
    {
        await using var t = new TestRecorder(o =>
        {
            o.CaptureContent = true;
            o.Content.Redactor = (part, text) => part == TokenUsageContentPart.Question ? throw new InvalidOperationException("redactor bug") : text;
        });
        var record = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));

        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(35, record.Usage.TotalTokenCount);
        Assert.Null(record.Content!.Question);
        Assert.DoesNotContain("weather in Beijing", TokenUsageJsonText(record), StringComparison.Ordinal);
        Assert.Equal("""{"location": "Beijing"}""", record.Content.ToolCalls![0].Arguments);
        Assert.Equal(1, t.Recorder.GetStatistics().CallbackFailures);
    }

    [Fact]
    public async Task Parts_CanBeSwitchedOff()
    {
        await using var t = new TestRecorder(o =>
        {
            o.CaptureContent = true;
            o.Content.CaptureQuestion = false;
            o.Content.CaptureToolCalls = false;
        });
        var record = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));

        Assert.Null(record.Content);
    }

    [Fact]
    public async Task CaptureSwitchedOnAtRunTime_TakesEffectOnTheNextCall()
    {
        await using var t = new TestRecorder();
        var first = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));
        Assert.Null(first.Content);

        t.Recorder.ApplySettings(t.Recorder.Settings with { CaptureContent = true });
        var second = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));
        Assert.Equal("What is the weather in Beijing?", second.Content!.Question);

        t.Recorder.ApplySettings(t.Recorder.Settings with { CaptureContent = false });
        var third = await CallAsync(t, ContentTestKit.WeatherRequest, StubHttpHandler.Sse(ContentTestKit.Sse(ContentTestKit.FourFragmentToolCall)));
        Assert.Null(third.Content);
    }

    [Fact]
    public async Task GzippedAnswer_IsCapturedToo()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var json = """{"id":"1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""";
        using var ms = new MemoryStream();
        await using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionMode.Compress, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(json));
        }

        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(ms.ToArray()) };
        response.Content.Headers.ContentType = new("application/json");
        response.Content.Headers.ContentEncoding.Add("gzip");
        var record = await CallAsync(t, """{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}""", response);

        Assert.Equal(("Hi", "Hello there"), (record.Content!.Question, record.Content.Answer));
    }

    private static string TokenUsageJsonText(TokenUsageRecord record) => Encoding.UTF8.GetString(TokenUsageJson.Serialize(record));
}

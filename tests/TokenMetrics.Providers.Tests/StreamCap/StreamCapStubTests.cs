using System.Text;
using System.Text.Json;

namespace TokenMetrics.Providers.Tests.StreamCap;

/// <summary>The stream output cap on exact bytes (no network): what the app reads before the cut is the vendor's bytes, the cut
/// falls on an event boundary whatever the read sizes, the end is the vendor's own, and with the cap off nothing changes.</summary>
public sealed class StreamCapStubTests
{
    private const string Url = "https://api.openai.com/v1/chat/completions";
    private const string Head = "{\"id\":\"chatcmpl-cap1\",\"object\":\"chat.completion.chunk\",\"created\":1700000123,\"model\":\"gpt-4o-mini-2024-07-18\"";

    // A role chunk, then 12 one-token words, a finish chunk and [DONE]: the stream a vendor sends, CRLF in one event on purpose.
    private static readonly string[] OpenAIEvents =
    [
        "data: " + Head + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        .. Enumerable.Range(0, 12).Select(i => "data: " + Head + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" hello\"},\"finish_reason\":null}]}" + (i == 3 ? "\r\n\r\n" : "\n\n")),
        "data: " + Head + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ];

    private static byte[] OpenAIBody => Encoding.UTF8.GetBytes(string.Concat(OpenAIEvents));

    private static HttpRequestMessage ChatRequest(int? cap = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url)
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":false},\"messages\":[{\"role\":\"user\",\"content\":\"Say hello twelve times.\"}]}", Encoding.UTF8, "application/json"),
        };
        if (cap is { } c)
        {
            request.Options.Set(TokenMetricsHandlerOptions.MaxStreamOutputTokensKey, c);
        }

        return request;
    }

    private static HttpResponseMessage Sse(ChunkedStream upstream)
    {
        var content = new StreamContent(upstream);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content };
    }

    private static async Task<(byte[] Bytes, ChunkedStream Upstream)> ReadAllAsync(TestRecorder t, byte[] body, int[] chunkSizes, TokenMetricsHandlerOptions? options, HttpRequestMessage request, bool endless = false)
    {
        var upstream = new ChunkedStream(body, chunkSizes, endless: endless);
        var stub = new StubHttpHandler((_, _) => Task.FromResult(Sse(upstream)));
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], stub, options));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, 5);
        return (copy.ToArray(), upstream);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(4096)]
    public async Task OpenAI_CutAtEventBoundary_PrefixIdentical_OpenAIsOwnEnd_AnyReadSize(int readSize)
    {
        await using var t = new TestRecorder();
        var (bytes, upstream) = await ReadAllAsync(t, OpenAIBody, [readSize], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 5 }, ChatRequest());

        // The role chunk and five words, exactly as sent; then the end OpenAI writes at max_completion_tokens.
        var prefix = string.Concat(OpenAIEvents.Take(6));
        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith(prefix, text, StringComparison.Ordinal);
        var end = text[prefix.Length..];
        Assert.Equal(
            "data: {\"id\":\"chatcmpl-cap1\",\"object\":\"chat.completion.chunk\",\"created\":1700000123,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n",
            end);
        Assert.True(upstream.Disposed);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Null(record.ErrorType);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(5, record.Usage.OutputTokenCount);
        Assert.True(record.Usage.InputTokenCount > 0); // estimated from the request, off the app's path
        Assert.Equal("chatcmpl-cap1", record.ResponseId);
    }

    [Fact]
    public async Task OpenAI_EndlessUpstream_CappedAndReleased()
    {
        await using var t = new TestRecorder();
        var body = Encoding.UTF8.GetBytes(string.Concat(OpenAIEvents.Skip(1).Take(4)));
        var (bytes, upstream) = await ReadAllAsync(t, body, [11], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 40 }, ChatRequest(), endless: true);

        Assert.EndsWith("\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.True(upstream.Disposed);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(40, record.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task CapOff_BytesIdenticalToTheVendors(int readSize)
    {
        await using var t = new TestRecorder();
        var (bytes, _) = await ReadAllAsync(t, OpenAIBody, [readSize], new TokenMetricsHandlerOptions(), ChatRequest());
        Assert.Equal(OpenAIBody, bytes);

        // A client cap turned off for one request: the same.
        var (off, _) = await ReadAllAsync(t, OpenAIBody, [readSize], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 3 }, ChatRequest(cap: 0));
        Assert.Equal(OpenAIBody, off);

        // A cap the stream stays under: the same, and the call is not capped.
        var (under, _) = await ReadAllAsync(t, OpenAIBody, [readSize], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 12 }, ChatRequest());
        Assert.Equal(OpenAIBody, under);
        var records = await t.RecordsAsync(3);
        Assert.All(records, r => Assert.Equal(TokenUsageStatus.Ok, r.Status));
    }

    [Fact]
    public async Task PerRequestCap_OverridesTheClients()
    {
        await using var t = new TestRecorder();
        var (bytes, _) = await ReadAllAsync(t, OpenAIBody, [64], new TokenMetricsHandlerOptions(), ChatRequest(cap: 2));
        Assert.StartsWith(string.Concat(OpenAIEvents.Take(3)), Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"length\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(2, record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task OpenAI_AppAskedForUsage_GetsAUsageChunkMatchingTheRecord()
    {
        await using var t = new TestRecorder();
        var events = OpenAIEvents.Select(e => e.StartsWith("data: {", StringComparison.Ordinal) ? e.Replace("}]}", "}],\"usage\":null}", StringComparison.Ordinal) : e).ToArray();
        var request = new HttpRequestMessage(HttpMethod.Post, Url)
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"Say hello twelve times.\"}]}", Encoding.UTF8, "application/json"),
        };
        var (bytes, _) = await ReadAllAsync(t, Encoding.UTF8.GetBytes(string.Concat(events)), [9], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 4 }, request);

        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith(string.Concat(events.Take(5)), text, StringComparison.Ordinal);
        var tail = text[string.Concat(events.Take(5)).Length..].Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, tail.Length);
        using var finish = JsonDocument.Parse(tail[0]["data: ".Length..]);
        Assert.Equal("length", finish.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, finish.RootElement.GetProperty("usage").ValueKind);
        using var usage = JsonDocument.Parse(tail[1]["data: ".Length..]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        var u = usage.RootElement.GetProperty("usage");
        Assert.Equal("data: [DONE]", tail[2]);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(4, u.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(record.Usage.OutputTokenCount, u.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(record.Usage.InputTokenCount, u.GetProperty("prompt_tokens").GetInt64());
        Assert.True(record.Usage.InputTokenCount > 0);
    }

    private static readonly string[] AnthropicEvents =
    [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_cap\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":21,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        .. Enumerable.Range(0, 10).Select(_ => "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" hello\"}}\n\n"),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":10}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task Anthropic_CutAtEventBoundary_ClosesTheBlock_MaxTokens_MessageStop(int readSize)
    {
        await using var t = new TestRecorder();
        var upstream = new ChunkedStream(Encoding.UTF8.GetBytes(string.Concat(AnthropicEvents)), [readSize]);
        var stub = new StubHttpHandler((_, _) => Task.FromResult(Sse(upstream)));
        var protocol = AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol();
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [protocol], stub, new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 3 }));
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://api.anthropic.com/v1/messages")
        {
            Content = new StringContent("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        var prefix = string.Concat(AnthropicEvents.Take(6));
        Assert.StartsWith(prefix, text, StringComparison.Ordinal);
        Assert.Equal(
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":21,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":3}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            text[prefix.Length..]);
        Assert.True(upstream.Disposed);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(21, record.Usage.InputTokenCount); // reported in message_start
        Assert.Equal(3, record.Usage.OutputTokenCount);  // counted as the stream went
        Assert.Equal(24, record.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task SynchronousReads_CutTheSameWay()
    {
        await using var t = new TestRecorder();
        var upstream = new ChunkedStream(OpenAIBody, [7]);
        var stub = new StubHttpHandler((_, _) => Task.FromResult(Sse(upstream)));
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], stub, new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 5 }));
        using var response = await http.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead);
        using var stream = response.Content.ReadAsStream();
        using var copy = new MemoryStream();
        var buffer = new byte[3];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            copy.Write(buffer, 0, n);
        }

        var text = Encoding.UTF8.GetString(copy.ToArray());
        Assert.StartsWith(string.Concat(OpenAIEvents.Take(6)), text, StringComparison.Ordinal);
        Assert.EndsWith("\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.True(upstream.Disposed);
        Assert.Equal(TokenUsageStatus.Capped, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task CapBelowOne_RejectedAtStartUp()
    {
        await using var t = new TestRecorder();
        var ex = Assert.ThrowsAny<Exception>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 0 }));
        Assert.Contains(nameof(TokenMetricsHandlerOptions.MaxStreamOutputTokens), ex.Message, StringComparison.Ordinal);
    }
}

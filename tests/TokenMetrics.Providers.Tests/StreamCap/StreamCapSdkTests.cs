using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Providers.Tests.Anthropic;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.StreamCap;

/// <summary>The stream output cap over real sockets: the official OpenAI and Anthropic SDKs read the capped stream to its end
/// without error and see <c>length</c> / <c>max_tokens</c>; the upstream connection is closed at the cut.</summary>
public sealed class StreamCapSdkTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ChatClient OpenAISdk(TestRecorder t, string model, TokenMetricsHandlerOptions options)
    {
        var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler(), options));
        return new ChatClient(model, new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });
    }

    [Theory]
    [InlineData("gpt-4o-mini+mock-endless")]             // an answer that never ends on its own
    [InlineData("gpt-4o-mini+mock-endless+mock-split-7")] // events straddling reads
    public async Task OpenAISdk_ReadsTheCappedStreamToTheEnd_FinishReasonLength_RecordCapped(string model)
    {
        await using var t = new TestRecorder();
        var chat = OpenAISdk(t, model, new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 12 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell me a long story.")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
        }

        Assert.Equal(ChatFinishReason.Length, finish);
        var counted = TiktokenEncoding.ForModel("gpt-4o-mini").CountTokens(text.ToString());
        Assert.InRange(counted, 1, 12);
        Assert.NotNull(usage); // the SDK asks for usage itself, so the end carries it
        Assert.Equal(counted, usage!.OutputTokenCount);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(usage.OutputTokenCount, record.Usage.OutputTokenCount);
        Assert.Equal(usage.InputTokenCount, record.Usage.InputTokenCount);
        Assert.True(record.IsStreaming);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("7")]
    public async Task AnthropicSdk_ReadsTheCappedStreamToTheEnd_StopReasonMaxTokens_RecordCapped(string? splitBytes)
    {
        await using var t = new TestRecorder();
        (string, string)[] headers = splitBytes is null ? [(MockHeaders.PromptTokens, "42")] : [(MockHeaders.PromptTokens, "42"), (MockHeaders.SplitBytes, splitBytes)];
        var http = new HttpClient(new TokenMetricsHandler(
            t.Recorder,
            [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(o => o.Hosts.Add("127.0.0.1"))],
            new HeaderHandler(new SocketsHttpHandler(), headers),
            new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 5 }));
        var client = new AnthropicClient { HttpClient = http, BaseUrl = _server.BaseAddress.ToString().TrimEnd('/'), ApiKey = "sk-ant-test", MaxRetries = 0 };
        var text = new StringBuilder();
        string? stopReason = null;
        long? outputTokens = null;
        bool blockStopped = false, messageStopped = false;

        await foreach (var e in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 200,
            Messages = [new UserMessageParam("Tell me a long story.")],
        }))
        {
            if (e.TryPickContentBlockDelta(out var block) && block.Delta.TryPickText(out var delta))
            {
                text.Append(delta.Text);
            }
            else if (e.TryPickContentBlockStop(out _))
            {
                blockStopped = true;
            }
            else if (e.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta.Delta.StopReason?.Raw();
                outputTokens = messageDelta.Usage.OutputTokens;
            }
            else if (e.TryPickStop(out _))
            {
                messageStopped = true;
            }
        }

        Assert.Equal("max_tokens", stopReason);
        Assert.True(blockStopped);
        Assert.True(messageStopped);
        var counted = TiktokenEncoding.ForModel("claude-sonnet-4-5").CountTokens(text.ToString());
        Assert.InRange(counted, 1, 5);
        Assert.Equal(counted, outputTokens);
        Assert.StartsWith(text.ToString(), "This is a deterministic answer from the TokenMetrics mock server.", StringComparison.Ordinal);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(42, record.Usage.InputTokenCount); // reported before the cut
        Assert.Equal(outputTokens, record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task OpenAISdk_Responses_ReadsTheCappedStreamToTheEnd_IncompleteMaxOutputTokens()
    {
        await using var t = new TestRecorder();
        var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler(), new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 6 }));
#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
        var client = new global::OpenAI.Responses.ResponsesClient(new ApiKeyCredential("sk-test"), new global::OpenAI.Responses.ResponsesClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });
        var text = new StringBuilder();
        global::OpenAI.Responses.ResponseResult? incomplete = null;
        await foreach (var update in await client.CreateResponseStreamingAsync("gpt-4.1-mini+mock-endless", "Tell me a long story."))
        {
            if (update is global::OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is global::OpenAI.Responses.StreamingResponseIncompleteUpdate done)
            {
                incomplete = done.Response;
            }
        }
#pragma warning restore OPENAI001

        Assert.NotNull(incomplete);
        Assert.Equal("max_output_tokens", incomplete!.IncompleteStatusDetails?.Reason?.ToString());
        var counted = TiktokenEncoding.ForModel("gpt-4.1-mini").CountTokens(text.ToString());
        Assert.InRange(counted, 1, 6);
        Assert.Equal(counted, incomplete.Usage.OutputTokenCount);

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(counted, record.Usage.OutputTokenCount);
        Assert.Equal(incomplete.Usage.InputTokenCount, record.Usage.InputTokenCount);
        Assert.Equal(incomplete.Id, record.ResponseId);
    }

    /// <summary>An upstream that streams until its writes fail: it sees the client go away while the app still holds the response
    /// (read to its end, not disposed). SocketsHttpHandler is set to drain for minutes, so only the cancelled read closes it.</summary>
    [Fact]
    public async Task UpstreamConnectionClosedAtTheCut_NotDrained()
    {
        await using var t = new TestRecorder();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var clientGone = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = Task.Run(() => EndlessUpstreamAsync(listener, clientGone, stop.Token));

        var handler = new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.FromMinutes(5), MaxResponseDrainSize = int.MaxValue };
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(o => o.MatchAnyHost = true)], handler, new TokenMetricsHandlerOptions { MaxStreamOutputTokens = 10 }));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}", Encoding.UTF8, "application/json"),
        };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        var eventsWritten = await clientGone.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.EndsWith("\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.True(eventsWritten >= 10);
        response.Dispose();
        await stop.CancelAsync();
        await server;

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Capped, record.Status);
        Assert.Equal(10, record.Usage.OutputTokenCount);
    }

    private static async Task EndlessUpstreamAsync(TcpListener listener, TaskCompletionSource<int> clientGone, CancellationToken stop)
    {
        using var socket = await listener.AcceptSocketAsync(stop);
        await using var net = new NetworkStream(socket, ownsSocket: false);
        var buffer = new byte[8192];
        var seen = new MemoryStream();
        int headerEnd;
        while ((headerEnd = IndexOf(seen.ToArray(), "\r\n\r\n"u8)) < 0)
        {
            var n = await net.ReadAsync(buffer, stop);
            if (n == 0)
            {
                return;
            }

            seen.Write(buffer, 0, n);
        }

        // The request body (Content-Length) is read too, so that closing later is the client's doing, not a reset of ours.
        var headers = Encoding.ASCII.GetString(seen.ToArray(), 0, headerEnd);
        var length = int.Parse(headers.Split("\r\n").First(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var have = (int)seen.Length - headerEnd - 4;
        while (have < length)
        {
            var n = await net.ReadAsync(buffer, stop);
            if (n == 0)
            {
                return;
            }

            have += n;
        }

        await net.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray(), stop);
        var written = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var ev = Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-tcp\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" hello\"},\"finish_reason\":null}]}\n\n");
                await net.WriteAsync(Encoding.ASCII.GetBytes(ev.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"), stop);
                await net.WriteAsync(ev, stop);
                await net.WriteAsync("\r\n"u8.ToArray(), stop);
                await net.FlushAsync(stop);
                written++;
                await Task.Delay(5, stop);
            }
        }
        catch (IOException)
        {
            clientGone.TrySetResult(written);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> value) => data.AsSpan().IndexOf(value);
}

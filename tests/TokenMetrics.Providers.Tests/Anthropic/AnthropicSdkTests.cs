using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>The official Anthropic .NET SDK over an <see cref="HttpClient"/> metered by <see cref="TokenMetricsHandler"/> (the
/// protocols <c>AddDefaultProviders</c> registers) against the mock server's <c>/v1/messages</c>, over real sockets.</summary>
public sealed class AnthropicSdkTests : IAsyncLifetime
{
    private const string Model = "claude-sonnet-4-5";

    private MockLlmServer _server = null!;
    private ServiceProvider _services = null!;
    private InMemoryTokenUsageExporter _records = null!;

    public async Task InitializeAsync()
    {
        _server = await MockLlmServer.StartAsync();
        var services = new ServiceCollection();
        services.AddTokenMetrics(o =>
        {
            o.ExportInterval = TimeSpan.FromMilliseconds(20);
            o.MeterName = "TokenMetrics.Providers.Tests." + Guid.NewGuid().ToString("N");
        }).RemoveMeterExporter().AddDefaultProviders().AddInMemoryExporter(out _records);
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    private TokenUsageRecorder Recorder => _services.GetRequiredService<TokenUsageRecorder>();

    /// <summary>An SDK client whose HttpClient is metered; the mock's usage switches ride below the metering handler.</summary>
    private AnthropicClient Sdk(params (string Name, string Value)[] mockHeaders)
    {
        var http = new HttpClient(new TokenMetricsHandler(Recorder, _services.GetServices<ITokenUsageProtocol>(), new HeaderHandler(new SocketsHttpHandler(), mockHeaders)));
        return new AnthropicClient
        {
            HttpClient = http,
            BaseUrl = _server.BaseAddress.ToString().TrimEnd('/'),
            ApiKey = "sk-ant-test",
            MaxRetries = 0,
        };
    }

    private static MessageCreateParams Params() => new()
    {
        Model = Model,
        MaxTokens = 200,
        System = "Be brief.",
        Messages = [new UserMessageParam("Hello, Claude — ça va? 日本")],
    };

    private async Task<TokenUsageRecord> SingleRecordAsync()
    {
        _ = await _records.WaitForRecordsAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(TokenMetricsFlushResult.Success, await Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        return Assert.Single(_records.Records);
    }

    private static readonly (string, string)[] CacheHeaders =
        [(MockHeaders.PromptTokens, "42"), (MockHeaders.CachedTokens, "8"), ("x-mock-cache-write-tokens", "5"), (MockHeaders.CompletionTokens, "17")];

    [Fact]
    public async Task NonStreamed_OneRecord_UsageEqualsTheSdksUsage_InputNormalised()
    {
        var client = Sdk(CacheHeaders);

        Message message = await client.Messages.Create(Params());

        var usage = message.Usage;
        Assert.Equal(42, usage.InputTokens);
        var record = await SingleRecordAsync();
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal(Model, record.RequestModel);
        Assert.False(record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(TokenUsageLayer.Http, record.Layer);
        Assert.Equal(usage.InputTokens + usage.CacheCreationInputTokens + usage.CacheReadInputTokens, record.Usage.InputTokenCount);
        Assert.Equal(usage.CacheReadInputTokens, record.Usage.CachedInputTokenCount);
        Assert.Equal(usage.CacheCreationInputTokens, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(usage.OutputTokens, record.Usage.OutputTokenCount);
        Assert.Equal(message.ID, record.ResponseId);
    }

    [Fact]
    public async Task Streamed_OneRecord_UsageEqualsTheSdksLastReportedUsage()
    {
        var client = Sdk(CacheHeaders);
        long? input = null, cacheWrite = null, cacheRead = null, output = null;
        var text = new StringBuilder();

        await foreach (var e in client.Messages.CreateStreaming(Params()))
        {
            if (e.TryPickStart(out var start))
            {
                input = start.Message.Usage.InputTokens;
                cacheWrite = start.Message.Usage.CacheCreationInputTokens;
                cacheRead = start.Message.Usage.CacheReadInputTokens;
                output = start.Message.Usage.OutputTokens;
            }
            else if (e.TryPickDelta(out var delta))
            {
                // message_delta's usage is cumulative: the latest value of each field wins.
                input = delta.Usage.InputTokens ?? input;
                cacheWrite = delta.Usage.CacheCreationInputTokens ?? cacheWrite;
                cacheRead = delta.Usage.CacheReadInputTokens ?? cacheRead;
                output = delta.Usage.OutputTokens;
            }
            else if (e.TryPickContentBlockDelta(out var block) && block.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
        }

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", text.ToString());
        Assert.Equal(42, input);
        Assert.Equal(17, output);
        var record = await SingleRecordAsync();
        Assert.Equal("anthropic", record.Provider);
        Assert.True(record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(input + cacheWrite + cacheRead, record.Usage.InputTokenCount);
        Assert.Equal(cacheRead, record.Usage.CachedInputTokenCount);
        Assert.Equal(cacheWrite, record.Usage.CacheWriteInputTokenCount);
        Assert.Equal(output, record.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChatClientOverTheSdk_OverTheMeteredHttpClient_OneRecordPerCall_AtTheHttpLayer(bool stream)
    {
        var sdk = Sdk(CacheHeaders);
        using var chat = new TokenMetricsChatClient(sdk.AsIChatClient(Model, 200), Recorder);
        ChatMessage[] messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello, Claude — ça va? 日本")];
        UsageDetails? usage;
        string text;
        if (stream)
        {
            var updates = new List<ChatResponseUpdate>();
            await foreach (var update in chat.GetStreamingResponseAsync(messages))
            {
                updates.Add(update);
            }

            var response = updates.ToChatResponse();
            usage = response.Usage;
            text = response.Text;
        }
        else
        {
            var response = await chat.GetResponseAsync(messages);
            usage = response.Usage;
            text = response.Text;
        }

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", text);
        var record = await SingleRecordAsync();
        Assert.Equal(TokenUsageLayer.Http, record.Layer);
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal(stream, record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(42 + 8 + 5, record.Usage.InputTokenCount);
        Assert.Equal(17, record.Usage.OutputTokenCount);
        Assert.NotNull(usage);
        Assert.Equal(usage.OutputTokenCount, record.Usage.OutputTokenCount);

        // A second call through the same decorated client: still one record per call.
        _ = await chat.GetResponseAsync(messages);
        _ = await _records.WaitForRecordsAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(TokenMetricsFlushResult.Success, await Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _records.Records.Count);
        Assert.All(_records.Records, r => Assert.Equal(TokenUsageLayer.Http, r.Layer));
    }
}

using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.MicrosoftExtensionsAI;

/// <summary><c>UseTokenMetrics()</c> as Microsoft.Extensions.AI users write middleware: on a <see cref="ChatClientBuilder"/>.</summary>
public class ChatClientBuilderTests
{
    private static TestChatClient Model() => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "hi")) { Usage = new UsageDetails { InputTokenCount = 3, OutputTokenCount = 1 } }),
    };

    [Fact]
    public async Task AddChatClient_UseTokenMetrics_ResolvesTheRecorderFromTheServiceProvider()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMilliseconds(20)).RemoveMeterExporter().AddInMemoryExporter(out var exporter);
        services.AddChatClient(Model()).UseTokenMetrics(configure: c => c.ClientName = "bot");
        await using var sp = services.BuildServiceProvider();

        var client = sp.GetRequiredService<IChatClient>();
        _ = await client.GetResponseAsync("hello");

        Assert.Equal("bot", client.GetService<TokenMetricsChatClient>()?.ClientName);
        var record = Assert.Single(await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal("bot", record.ClientName);
        Assert.Equal(3, record.Usage.InputTokenCount);
        Assert.Equal(0, record.RoundIndex);
        Assert.NotNull(record.OperationId);
    }

    [Fact]
    public void ReadmeQuickStart_BuildsTheMeteredPipeline()
    {
        var builder = Host.CreateApplicationBuilder();
        var apiKey = "sk-test";

        // As in README.md, Quick start.
        builder.Services.AddTokenMetrics();              // recorder, OpenTelemetry meter exporter, flush on shutdown
        builder.Services.AddChatClient(new OpenAI.Chat.ChatClient("gpt-4o-mini", apiKey).AsIChatClient())
            .UseFunctionInvocation()
            .UseTokenMetrics(configure: c => c.ClientName = "assistant");   // one record per model round-trip

        using var host = builder.Build();
        var client = host.Services.GetRequiredService<IChatClient>();
        var metered = client.GetService<TokenMetricsChatClient>();
        Assert.Equal("assistant", metered?.ClientName);
        Assert.IsType<FunctionInvokingChatClient>(client);   // the first stage added is the outermost
        Assert.NotNull(metered!.GetService<OpenAI.Chat.ChatClient>());    // TokenMetrics sits right above the OpenAI client
    }

    [Fact]
    public void WithoutAddTokenMetrics_BuildFailsWithAClearMessage()
    {
        using var model = Model();
        var builder = new ChatClientBuilder(model).UseTokenMetrics();   // adding the stage resolves nothing yet

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("AddTokenMetrics()", error.Message, StringComparison.Ordinal);

        using var sp = new ServiceCollection().BuildServiceProvider();
        Assert.Throws<InvalidOperationException>(() => builder.Build(sp));
    }

    [Fact]
    public async Task AnExplicitRecorder_NeedsNoServices_AndConfigureRunsOnTheClient()
    {
        await using var t = new TestRecorder();
        using var model = Model();
        var builder = model.AsBuilder();

        Assert.Same(builder, builder.UseTokenMetrics(t.Recorder, c => c.ClientName = "explicit"));
        using var client = builder.Build();
        _ = await client.GetResponseAsync("hello");

        Assert.Equal("explicit", Assert.Single(await t.RecordsAsync(1)).ClientName);
    }

    [Fact]
    public void NullBuilder_Throws() =>
        Assert.Throws<ArgumentNullException>("builder", () => TokenMetricsChatClientBuilderExtensions.UseTokenMetrics(null!));

    [Fact]
    public async Task AiLog_ChatRound_IsTheOneBasedRoundIndex()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tm-ailog-" + Guid.NewGuid().ToString("N"));
        try
        {
            var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = directory, FileName = "ai.log" });
            _ = await exporter.ExportAsync([new TokenUsageRecord { RoundIndex = 2, OperationId = Guid.CreateVersion7() }], CancellationToken.None);
            var line = await File.ReadAllTextAsync(Path.Combine(directory, "ai.log"));
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Assert.Equal(3, json.RootElement.GetProperty("chat_round").GetInt64());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Json_CarriesOperationIdAndRoundIndex()
    {
        var record = new TokenUsageRecord { OperationId = Guid.CreateVersion7(), RoundIndex = 4 };

        var json = System.Text.Encoding.UTF8.GetString(TokenUsageJson.Serialize(record));
        var back = TokenUsageJson.Deserialize(TokenUsageJson.Serialize(record))!;

        Assert.Contains($"\"operation_id\":\"{record.OperationId}\"", json, StringComparison.Ordinal);
        Assert.Contains("\"round_index\":4", json, StringComparison.Ordinal);
        Assert.Equal(record.OperationId, back.OperationId);
        Assert.Equal(4, back.RoundIndex);
    }
}

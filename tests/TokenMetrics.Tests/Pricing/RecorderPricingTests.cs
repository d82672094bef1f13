using System.ClientModel;
using System.ClientModel.Primitives;
using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Testing;

namespace TokenMetrics.Tests.Pricing;

/// <summary>Pricing as the first step of delivery: records reach exporters with their cost, or a counted null.</summary>
public sealed class RecorderPricingTests : IDisposable
{
    private static readonly TokenUsage SomeUsage = new() { InputTokenCount = 1_000_000, OutputTokenCount = 1_000_000 };
    private readonly string _dir = Directory.CreateTempSubdirectory("tokenmetrics-pricing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TokenUsageRecord Record(string? model, TokenUsage usage, string? provider = "openai", string? responseModel = null) => new()
    {
        Provider = provider,
        RequestModel = model,
        ResponseModel = responseModel,
        Usage = usage,
        Source = usage.IsEmpty ? TokenUsageSource.Missing : TokenUsageSource.Reported,
    };

    [Fact]
    public async Task KnownModel_GetsCostCurrencyAndPricedModel_FromItsDatedResponseModel()
    {
        await using var t = new TestRecorder();
        var gpt4o = TokenUsagePriceCatalog.Default.Resolve("gpt-4o")!.Entry.Price;

        t.Recorder.Record(Record("gpt-4o", SomeUsage, responseModel: "gpt-4o-2024-08-06"));

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(gpt4o.Input + gpt4o.Output, record.Cost);
        Assert.Equal("USD", record.Currency);
        Assert.Equal("gpt-4o", record.PricedModel);
    }

    [Fact]
    public async Task UnknownModel_CostIsNull_AndCountedAsPriceUnknown()
    {
        await using var t = new TestRecorder();

        t.Recorder.Record(Record("my-private-model-7", SomeUsage));
        t.Recorder.Record(Record("gpt-4o", TokenUsage.Empty));

        var records = await t.RecordsAsync(2);
        Assert.All(records, r => Assert.Null(r.Cost));
        Assert.All(records, r => Assert.Null(r.PricedModel));
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(1, stats.PriceUnknown);
        Assert.Equal(1, stats.UnpricedNoUsage);
    }

    [Fact]
    public async Task UnpricedCounter_IsObservableOnTheMeter()
    {
        await using var t = new TestRecorder();
        t.Recorder.Record(Record("my-private-model-7", SomeUsage));
        _ = await t.RecordsAsync(1);
        var seen = new Dictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == t.Recorder.Meter && instrument.Name == "tokenmetrics.records.unpriced")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => seen[(string)tags[0].Value!] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Equal(1, seen["price_unknown"]);
        Assert.Equal(0, seen["no_usage"]);
    }

    [Fact]
    public async Task EstimatedUsage_IsPricedToo()
    {
        await using var t = new TestRecorder(o => o.Pricing.Prices["est-model"] = new TokenUsagePrice { Input = 1m, Output = 2m });

        t.Recorder.Record(Record("est-model", new TokenUsage { InputTokenCount = 10, OutputTokenCount = 5 }) with { Source = TokenUsageSource.Estimated });

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal((10 * 1m + 5 * 2m) / 1_000_000m, record.Cost);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
    }

    [Fact]
    public async Task UserPrice_BeatsTheCatalog_ForTheWholeFamily()
    {
        await using var t = new TestRecorder(o => o.Pricing.Prices["gpt-4o"] = new TokenUsagePrice { Input = 100m, Output = 200m });

        t.Recorder.Record(Record("gpt-4o-2024-08-06", SomeUsage));
        t.Recorder.Record(Record("gpt-4o", SomeUsage, provider: "azure.ai.openai"));

        var records = await t.RecordsAsync(2);
        Assert.All(records, r => Assert.Equal(300m, r.Cost));
        Assert.All(records, r => Assert.Equal("gpt-4o", r.PricedModel));
    }

    [Fact]
    public async Task RuntimePriceOverrides_WinOverConfiguredAndCatalogPrices_OnTheNextRecord()
    {
        await using var t = new TestRecorder(o => o.Pricing.Prices["gpt-4o"] = new TokenUsagePrice { Input = 100m, Output = 200m });
        t.Recorder.Record(Record("gpt-4o", SomeUsage));
        _ = await t.RecordsAsync(1);

        t.Recorder.ApplySettings(t.Recorder.Settings with
        {
            PriceOverrides = new Dictionary<string, TokenUsagePrice> { ["gpt-4o"] = new() { Input = 1m, Output = 1m }, ["house-*"] = new() { Input = 7m, Output = 7m } },
        });
        t.Recorder.Record(Record("gpt-4o", SomeUsage));
        t.Recorder.Record(Record("house-llm-2", SomeUsage));

        var records = await t.RecordsAsync(3);
        Assert.Equal([300m, 2m, 14m], records.Select(r => r.Cost!.Value));
    }

    [Fact]
    public async Task DeploymentName_IsPricedAsItsModel()
    {
        await using var t = new TestRecorder(o => o.Pricing.Deployments["prod-chat"] = "gpt-4o-mini");
        var mini = TokenUsagePriceCatalog.Default.Resolve("gpt-4o-mini")!.Entry.Price;

        t.Recorder.Record(Record("prod-chat", SomeUsage, provider: "azure.ai.openai"));

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("gpt-4o-mini", record.PricedModel);
        Assert.Equal(mini.Input + mini.Output, record.Cost);
    }

    [Fact]
    public async Task PriceFileChangedOnDisk_NextRecordUsesTheNewPrice()
    {
        var file = Path.Combine(_dir, "prices.json");
        await File.WriteAllTextAsync(file, """{"file-model":{"input":1,"output":1}}""");
        await using var t = new TestRecorder(o => o.Pricing.PriceFile = file);
        t.Recorder.Record(Record("file-model", SomeUsage));
        Assert.Equal(2m, Assert.Single(await t.RecordsAsync(1)).Cost);

        await File.WriteAllTextAsync(file, """{"file-model":{"input":5,"output":5}}""");
        // Wait on the condition (the reload is asynchronous), bounded; never on a fixed delay.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (t.Recorder.PriceCatalog.Resolve("file-model")?.Entry.Price.Input != 5m && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        t.Recorder.Record(Record("file-model", SomeUsage));
        var records = await t.RecordsAsync(2);
        Assert.Equal(10m, records[1].Cost);
    }

    [Fact]
    public async Task PriceFileBrokenOnDisk_KeepsThePreviousPrices()
    {
        var file = Path.Combine(_dir, "prices.json");
        await File.WriteAllTextAsync(file, """{"file-model":{"input":1,"output":1}}""");
        await using var t = new TestRecorder(o => o.Pricing.PriceFile = file);

        await File.WriteAllTextAsync(file, """{"file-model":{"input":""");
        await File.WriteAllTextAsync(file, """{"file-model":{"input":3,"output":3}, "other":{"input":-1}}""");
        await File.WriteAllTextAsync(file, """{"file-model":{"input":3,"output":3}, "marker":{"input":1}}""");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (t.Recorder.PriceCatalog.Resolve("marker") is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(3m, t.Recorder.PriceCatalog.Resolve("file-model")!.Entry.Price.Input);
        Assert.Equal(0, t.Recorder.GetStatistics().InternalErrors);
    }

    [Theory]
    [InlineData("Prices:m:Input", "-1", "must not be negative")]
    [InlineData("Prices:m:Input", "cheap", "is not a number")]
    [InlineData("Prices:m:Currency", "", "needs a currency")]
    [InlineData("PriceFile", "/no/such/prices.json", "does not exist")]
    [InlineData("Deployments:prod", "", "both names are required")]
    public void InvalidPricingOptions_FailAtStartUp(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["TokenMetrics:Pricing:Prices:ok:Input"] = "1", ["TokenMetrics:Pricing:Prices:m:Output"] = "1", ["TokenMetrics:Pricing:" + key] = value })
            .Build();
        var services = new ServiceCollection();
        services.AddTokenMetrics(configuration.GetSection("TokenMetrics"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TokenMetricsOptions>>().Value);
        Assert.Contains("Pricing", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Throws<ValidationException>(() => new TokenUsageRecorder(new TokenMetricsOptions { Pricing = { Prices = { ["m"] = new() { Input = -1m } } } }, []));
    }

    [Fact]
    public async Task PricingBoundFromConfiguration_TokenMetricsPricingSection()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["TokenMetrics:Pricing:Prices:cfg-model:Input"] = "2",
                ["TokenMetrics:Pricing:Prices:cfg-model:Output"] = "4",
                ["TokenMetrics:Pricing:Deployments:prod"] = "cfg-model",
                ["TokenMetrics:ExportInterval"] = "00:00:00.020",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddTokenMetrics(configuration.GetSection("TokenMetrics")).AddInMemoryExporter(out var exporter);
        await using var provider = services.BuildServiceProvider();
        var recorder = provider.GetRequiredService<TokenUsageRecorder>();

        recorder.Record(Record("prod", SomeUsage));

        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        var record = Assert.Single(exporter.Records);
        Assert.Equal(6m, record.Cost);
        Assert.Equal("cfg-model", record.PricedModel);
    }

    [Fact]
    public async Task PricingDisabled_LeavesCostNull_AndCountsNothing()
    {
        await using var t = new TestRecorder(o => o.Pricing.Enabled = false);

        t.Recorder.Record(Record("gpt-4o", SomeUsage));

        Assert.Null(Assert.Single(await t.RecordsAsync(1)).Cost);
        Assert.Equal(0, t.Recorder.GetStatistics().PriceUnknown);
    }

    [Fact]
    public async Task AnthropicResponse_ThroughTheHandler_Prices5mAnd1hWritesAndReads()
    {
        const string body = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi"}],
             "stop_reason":"end_turn","usage":{"input_tokens":100,"cache_creation_input_tokens":3000,"cache_read_input_tokens":5000,
             "cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":200}}
            """;
        await using var t = new TestRecorder();
        var primary = new StubHttpHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") }));
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol()], primary));

        using var response = await http.PostAsync(
            new Uri("https://api.anthropic.com/v1/messages"),
            new StringContent("""{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"));
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        var price = TokenUsagePriceCatalog.Default.Resolve("claude-sonnet-4-5")!.Entry.Price;
        Assert.NotNull(price.CacheWrite1h);
        Assert.Equal(8_100, record.Usage.InputTokenCount);
        Assert.Equal((100 * price.Input + 5_000 * price.CachedInput + 1_000 * price.CacheWrite + 2_000 * price.CacheWrite1h + 200 * price.Output) / 1_000_000m, record.Cost);
        Assert.Equal("claude-sonnet-4-5", record.PricedModel);
    }

    [Fact]
    public async Task EndToEnd_OpenAISdkAgainstTheMockServer_RecordCarriesTheRightCost()
    {
        await using var server = await MockLlmServer.StartAsync();
        await using var t = new TestRecorder(o => o.Pricing.Prices["gpt-4o-mini"] = new TokenUsagePrice { Input = 1m, CachedInput = 0.5m, Output = 2m });
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()));
        http.DefaultRequestHeaders.Add(MockHeaders.PromptTokens, "1000");
        http.DefaultRequestHeaders.Add(MockHeaders.CachedTokens, "400");
        http.DefaultRequestHeaders.Add(MockHeaders.CompletionTokens, "50");
        var chat = new ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        var completion = (await chat.CompleteChatAsync([new UserChatMessage("What does this cost?")])).Value;

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(1000, completion.Usage.InputTokenCount);
        Assert.Equal(400, record.Usage.CachedInputTokenCount);
        // 600 uncached at 1, 400 cached at 0.5 (once, not also as input), 50 output at 2; USD per 1M.
        Assert.Equal((600 * 1m + 400 * 0.5m + 50 * 2m) / 1_000_000m, record.Cost);
        Assert.Equal("gpt-4o-mini", record.PricedModel);
        Assert.Equal("USD", record.Currency);
    }
}

using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.DependencyInjection;

public class TokenMetricsServiceCollectionExtensionsTests
{
    private static ServiceCollection NewServices(out InMemoryTokenUsageExporter exporter, Action<TokenMetricsOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTokenMetrics(o =>
        {
            o.ExportInterval = TimeSpan.FromMilliseconds(20);
            o.MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N");
            configure?.Invoke(o);
        }).AddDefaultProviders().AddInMemoryExporter(out exporter);
        return services;
    }

    private static StringContent Body(bool stream) => new(OpenAIFixtures.ChatRequest(stream), Encoding.UTF8, "application/json");

    [Fact]
    public async Task AddTokenMetricsHandler_MetersANamedClient()
    {
        var services = NewServices(out var exporter);
        services.AddHttpClient("llm", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .ConfigurePrimaryHttpMessageHandler(() => OpenAIFixtures.ChatServer())
            .AddTokenMetricsHandler(o => o.MaxSseEventBytes = 4096);
        await using var sp = services.BuildServiceProvider();

        using var client = sp.GetRequiredService<IHttpClientFactory>().CreateClient("llm");
        using var response = await client.PostAsync("chat/completions", Body(false));
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal("llm", record.ClientName);
        Assert.Equal(19, record.Usage.InputTokenCount);
        Assert.Equal(4096, sp.GetRequiredService<IOptionsMonitor<TokenMetricsHandlerOptions>>().Get("llm").MaxSseEventBytes);
    }

    [Fact]
    public async Task ConfigureHttpClientDefaults_MetersEveryClient_Once_EvenWhenAlsoAddedPerClient()
    {
        var services = NewServices(out var exporter);
        services.ConfigureHttpClientDefaults(b => b.AddTokenMetricsHandler().ConfigurePrimaryHttpMessageHandler(() => OpenAIFixtures.ChatServer()));
        services.AddHttpClient("a", c => c.BaseAddress = new Uri("https://api.openai.com/v1/")).AddTokenMetricsHandler();
        services.AddHttpClient("b", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"));
        await using var sp = services.BuildServiceProvider();
        var factory = sp.GetRequiredService<IHttpClientFactory>();

        foreach (var name in new[] { "a", "b" })
        {
            using var client = factory.CreateClient(name);
            using var response = await client.PostAsync("chat/completions", Body(false));
            _ = await response.Content.ReadAsStringAsync();
        }

        var recorder = sp.GetRequiredService<TokenUsageRecorder>();
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new string?[] { "a", "b" }, exporter.Records.Select(r => r.ClientName).Order().ToArray());
    }

    [Fact]
    public void AddTokenMetricsHandler_WithoutAddTokenMetrics_FailsWithAClearMessage()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("x").AddTokenMetricsHandler();
        using var sp = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredService<IHttpClientFactory>().CreateClient("x"));
        Assert.Contains("AddTokenMetrics()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtHostStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTokenMetrics(o => { o.MaxQueueSize = 4; o.MaxExportBatchSize = 8; });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("MaxExportBatchSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_BindFromConfiguration()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenMetrics:MaxQueueSize"] = "4096",
            ["TokenMetrics:ExportInterval"] = "00:00:02",
            ["TokenMetrics:EstimateMissingUsage"] = "false",
        }).Build();
        var services = new ServiceCollection();
        services.AddTokenMetrics(config.GetSection("TokenMetrics"));
        using var sp = services.BuildServiceProvider();

        var options = sp.GetRequiredService<IOptions<TokenMetricsOptions>>().Value;
        Assert.Equal(4096, options.MaxQueueSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ExportInterval);
        Assert.False(options.EstimateMissingUsage);
    }

    [Fact]
    public async Task HandlerOptions_BindFromConfiguration_PerClient()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:RequestStreamUsage"] = "false",
            ["Llm:MaxSseEventBytes"] = "2048",
            ["Llm:RewriteTo"] = "toy",
        }).Build();
        var services = NewServices(out _);
        services.AddHttpClient("bound").AddTokenMetricsHandler(config.GetSection("Llm"));
        await using var sp = services.BuildServiceProvider();

        var options = sp.GetRequiredService<IOptionsMonitor<TokenMetricsHandlerOptions>>().Get("bound");
        Assert.False(options.RequestStreamUsage);
        Assert.Equal(2048, options.MaxSseEventBytes);
        Assert.Equal("toy", options.RewriteTo);
        Assert.True(sp.GetRequiredService<IOptionsMonitor<TokenMetricsHandlerOptions>>().Get("other").RequestStreamUsage);
    }

    [Fact]
    public async Task HostStop_FlushesRecordsQueuedBeforeIt()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMinutes(30)).AddInMemoryExporter(out var exporter);
        using var host = builder.Build();
        await host.StartAsync();
        var recorder = host.Services.GetRequiredService<TokenUsageRecorder>();

        recorder.Record(new TokenUsageRecord { Provider = "openai" });
        recorder.Record(new TokenUsageRecord { Provider = "openai" });
        Assert.Empty(exporter.Records);
        await host.StopAsync();

        Assert.Equal(2, exporter.Records.Count);
    }

    [Fact]
    public void AddTokenMetrics_Twice_RegistersOneRecorderAndOneMeterExporter()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics();
        services.AddTokenMetrics();

        Assert.Single(services, d => d.ServiceType == typeof(TokenUsageRecorder));
        Assert.Single(services, d => d.ServiceType == typeof(ITokenUsageExporter));
        services.AddTokenMetrics().RemoveMeterExporter();
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ITokenUsageExporter));
    }
}

using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Anthropic;

public class AnthropicRegistrationTests
{
    [Fact]
    public void AddAnthropicAndAddBedrock_RegisterProtocolsAndRewriters_Once()
    {
        var services = new ServiceCollection();
        var builder = services.AddTokenMetrics();

        builder.AddAnthropic().AddAnthropic(o => o.IncludeVertexAI = false).AddBedrock().AddBedrock();

        using var sp = services.BuildServiceProvider();
        var names = sp.GetServices<ITokenUsageProtocol>().Select(p => (p.Name, Rewriter: p is ITokenUsageRewriter)).ToList();
        Assert.Equal([("anthropic", false), ("anthropic", true), ("aws.bedrock", false), ("aws.bedrock", true)], names);
    }

    [Fact]
    public void Extensions_RejectNullBuilders()
    {
        Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => AnthropicTokenMetricsBuilderExtensions.AddAnthropic(null!)).ParamName);
        Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => BedrockTokenMetricsBuilderExtensions.AddBedrock(null!)).ParamName);
    }

    [Fact]
    public async Task HttpClientFactory_RewriteToAnthropic_ByConfigurationAlone()
    {
        await using var server = await MockLlmServer.StartAsync();
        var services = new ServiceCollection();
        var exporter = new InMemoryTokenUsageExporter();
        services.AddTokenMetrics(o => o.MeterName = "TokenMetrics.Providers.Tests." + Guid.NewGuid().ToString("N"))
            .AddAnthropic()
            .AddOpenAI()
            .AddExporter(_ => exporter);
        services.AddHttpClient("claude-via-openai", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .AddTokenMetricsHandler(o =>
            {
                o.RewriteTo = "anthropic";
                o.Rewrite.Endpoint = server.BaseAddress;
                o.Rewrite.ModelMapping["*"] = "claude-haiku-4-5";
            });
        await using var sp = services.BuildServiceProvider();

        using var client = sp.GetRequiredService<IHttpClientFactory>().CreateClient("claude-via-openai");
        client.DefaultRequestHeaders.Add("Authorization", "Bearer sk-app");
        using var response = await client.PostAsync("chat/completions", new StringContent("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"object\":\"chat.completion\"", body, StringComparison.Ordinal);
        Assert.Equal("sk-app", server.Requests.Single().GetHeader("x-api-key"));
        var record = Assert.Single(await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("gpt-4o-mini", record.RequestModel);
        Assert.Equal("claude-haiku-4-5", record.RoutedModel);
        Assert.Equal("claude-via-openai", record.ClientName);
    }
}

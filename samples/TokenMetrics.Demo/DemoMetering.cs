using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace TokenMetrics.Demo;

/// <summary>The metering set-up both modes share: TokenMetrics with the SQLite store, every HttpClient metered, and one named
/// client per vendor route (Anthropic, Gemini and DashScope through rewriting, DeepSeek by its host name).</summary>
internal static class DemoMetering
{
    /// <summary>The key the SDKs send; the mock accepts anything, and TokenMetrics never records it.</summary>
    public static readonly ApiKeyCredential Key = new("sk-demo-not-a-real-key");

    public static ITokenMetricsBuilder Add(IServiceCollection services, IConfiguration configuration, Uri mock, string databasePath)
    {
        // DeepSeek's client talks to the mock as "localhost:PORT"; naming that host records the calls as provider "deepseek",
        // as api.deepseek.com would be.
        var tokenMetrics = services.AddTokenMetrics(o =>
            {
                o.ExportInterval = TimeSpan.FromMilliseconds(100);

                // A budget on the calls tagged "budget: tight" (scope tags): 30 tokens a minute, so its second call is refused.
                o.Budgets.Add(new TokenUsageBudget { Name = "tight", Subject = TokenUsageBudgetSubject.Tag, TagName = "budget", TokensPerMinute = 30 });
            })
            .AddDefaultProviders()
            .AddOpenAI(o => o.ProviderNames[DeepSeekHost(mock)] = "deepseek")
            .AddSqliteStore(o => o.DatabasePath = databasePath);

        // Optional backends, from the command line or configuration (see README "Pointing the demo at real backends"):
        //   --Demo:PostgreSql "Host=127.0.0.1;Port=5432;Username=...;Password=...;Database=..."
        //   --Demo:InfluxDb http://127.0.0.1:8086/ [--Demo:InfluxDbDatabase tokenmetrics] [--Demo:InfluxDbUser u --Demo:InfluxDbPassword p]
        var demo = configuration.GetSection("Demo");
        if (demo["PostgreSql"] is { Length: > 0 } postgres)
        {
            tokenMetrics.AddPostgreSqlStore(o => o.ConnectionString = postgres);
        }

        if (demo["InfluxDb"] is { Length: > 0 } influx)
        {
            tokenMetrics.AddInfluxDbExporter(o =>
            {
                o.Endpoint = new Uri(influx);
                o.ApiVersion = InfluxDbApiVersion.V1;
                o.Database = demo["InfluxDbDatabase"] ?? "tokenmetrics";
                o.Username = demo["InfluxDbUser"];
                o.Password = demo["InfluxDbPassword"];
            });
        }

        // Every HttpClient from the factory is metered; "unmetered" opts out to show the IChatClient layer recording on its own.
        // MockDirector goes last, nearest the wire: it only sets the mock server's x-mock-* headers.
        services.ConfigureHttpClientDefaults(b => b.AddTokenMetricsHandler().AddHttpMessageHandler(() => new MockDirector()));
        services.AddHttpClient("unmetered").AddTokenMetricsHandler(o => o.Enabled = false);

        // This one's to Anthropic Messages (the key moves to x-api-key; Claude reports cache tokens outside input: normalised).
        services.AddHttpClient("anthropic").AddTokenMetricsHandler(o =>
        {
            o.RewriteTo = "anthropic";
            o.Rewrite.Endpoint = mock;                            // omit for api.anthropic.com
            o.Rewrite.ModelMapping["gpt-4o-mini"] = "claude-haiku-4-5";
            o.Rewrite.ModelMapping["*"] = "claude-sonnet-4-5";
        });

        // This client's OpenAI requests are rewritten to Gemini's API, and the answers back: the unmodified OpenAI SDK talks to Gemini.
        services.AddHttpClient("gemini").AddTokenMetricsHandler(o =>
        {
            o.RewriteTo = "gcp.gemini";
            o.Rewrite.Endpoint = mock;                            // the mock server speaks Gemini too; omit for generativelanguage.googleapis.com
            o.Rewrite.ModelMapping["gpt-4o*"] = "gemini-2.5-flash";
            o.Rewrite.ModelMapping["*"] = "gemini-2.5-pro";
        });

        // And this one's to Alibaba DashScope's native API (Qwen).
        services.AddHttpClient("qwen").AddTokenMetricsHandler(o =>
        {
            o.RewriteTo = "dashscope";
            o.Rewrite.Endpoint = mock;                            // omit for dashscope.aliyuncs.com
            o.Rewrite.ModelMapping["gpt-4o-mini"] = "qwen-plus";
            o.Rewrite.ModelMapping["*"] = "qwen-max";
        });

        // This client stops a streamed answer after 5 output tokens: the app gets OpenAI's own "length" end of stream.
        services.AddHttpClient("capped").AddTokenMetricsHandler(o => o.MaxStreamOutputTokens = 5);
        return tokenMetrics;
    }

    /// <summary>The OpenAI SDK's options over one of the factory's named HttpClients.</summary>
    public static OpenAIClientOptions Sdk(IHttpClientFactory factory, string clientName, Uri endpoint, int? maxRetries = null)
    {
        var options = new OpenAIClientOptions { Endpoint = endpoint, Transport = new HttpClientPipelineTransport(factory.CreateClient(clientName)) };
        if (maxRetries is { } retries)
        {
            options.RetryPolicy = new ClientRetryPolicy(retries);
        }

        return options;
    }

    /// <summary>The mock's OpenAI endpoint.</summary>
    public static Uri OpenAIEndpoint(Uri mock) => new(mock, "v1");

    /// <summary>The mock's OpenAI endpoint under the host name the DeepSeek client uses.</summary>
    public static Uri DeepSeekEndpoint(Uri mock) => new($"http://{DeepSeekHost(mock)}/v1");

    private static string DeepSeekHost(Uri mock) => "localhost:" + mock.Port.ToString(CultureInfo.InvariantCulture);
}

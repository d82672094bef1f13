// The part of the consumer app that wires TokenMetrics: keep it small, it follows the public API as it changes.
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics;

internal static class TokenMetricsWiring
{
    /// <summary>AddTokenMetrics() with the default vendor protocols and the SQLite store at <paramref name="databasePath"/>.</summary>
    public static void AddTokenMetrics(IServiceCollection services, string databasePath) =>
        services.AddTokenMetrics()
            .AddDefaultProviders()
            .AddSqliteStore(o => o.DatabasePath = databasePath);

    /// <summary>A metered named HttpClient: the handler path.</summary>
    public static void AddMeteredHttpClient(IServiceCollection services, string name, Uri baseAddress) =>
        services.AddHttpClient(name, c => c.BaseAddress = baseAddress).AddTokenMetricsHandler();

    /// <summary>A metered IChatClient: the chat-client path, the way Microsoft.Extensions.AI users write it.</summary>
    public static IChatClient UseTokenMetrics(IChatClient inner, IServiceProvider services) =>
        inner.AsBuilder().UseTokenMetrics().Build(services);
}

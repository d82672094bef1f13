using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using TokenMetrics.Storage.PostgreSql;

namespace TokenMetrics;

/// <summary>Adds the PostgreSQL store to TokenMetrics.</summary>
public static class PostgreSqlTokenMetricsBuilderExtensions
{
    /// <summary>Stores every record in PostgreSQL: registers a <see cref="PostgreSqlTokenUsageStore"/> as
    /// <see cref="ITokenUsageStore"/> and as an exporter (with the pipeline's retries and spool).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the connection string or data source, and optionally the schema and retention.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddPostgreSqlStore(this ITokenMetricsBuilder builder, Action<PostgreSqlTokenUsageStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PostgreSqlTokenUsageStoreOptions();
        configure(options);
        builder.Services.TryAddSingleton(sp => new PostgreSqlTokenUsageStore(
            options,
            sp.GetService<ILoggerFactory>()?.CreateLogger<PostgreSqlTokenUsageStore>(),
            sp.GetService<TimeProvider>()));
        builder.Services.TryAddSingleton<ITokenUsageStore>(sp => sp.GetRequiredService<PostgreSqlTokenUsageStore>());
        return builder.AddExporter(sp => new StoreTokenUsageExporter(sp.GetRequiredService<PostgreSqlTokenUsageStore>()));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics;

/// <summary>Adds the SQLite store to TokenMetrics.</summary>
public static class SqliteTokenMetricsBuilderExtensions
{
    /// <summary>Stores every record in a SQLite database: registers a <see cref="SqliteTokenUsageStore"/> as
    /// <see cref="ITokenUsageStore"/> and as an exporter (with the pipeline's retries and spool).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the settings; by default the database is <c>./.tokenmetrics/usage.db</c>.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddSqliteStore(this ITokenMetricsBuilder builder, Action<SqliteTokenUsageStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SqliteTokenUsageStoreOptions();
        configure?.Invoke(options);
        builder.Services.TryAddSingleton(sp => new SqliteTokenUsageStore(
            options,
            sp.GetService<ILoggerFactory>()?.CreateLogger<SqliteTokenUsageStore>(),
            sp.GetService<TimeProvider>()));
        builder.Services.TryAddSingleton<ITokenUsageStore>(sp => sp.GetRequiredService<SqliteTokenUsageStore>());
        return builder.AddExporter(sp => new StoreTokenUsageExporter(sp.GetRequiredService<SqliteTokenUsageStore>()));
    }
}

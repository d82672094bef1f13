using Npgsql;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>Settings of the <see cref="PostgreSqlTokenUsageStore"/>.</summary>
public sealed class PostgreSqlTokenUsageStoreOptions
{
    /// <summary>The default schema: <c>tokenmetrics</c>.</summary>
    public const string DefaultSchema = "tokenmetrics";

    /// <summary>Gets or sets the Npgsql connection string (used when <see cref="DataSource"/> is not set).</summary>
    /// <value>Default <see langword="null"/>. Never logged or put in exception messages by the store.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets a data source owned by the app (the store does not dispose it); wins over <see cref="ConnectionString"/>.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>Gets or sets the schema holding the tables; created when missing. Letters, digits and underscores only
    /// (it is an identifier, validated and quoted, never taken from request input).</summary>
    /// <value>Default <see cref="DefaultSchema"/>.</value>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>Gets or sets how long records are kept; older ones are deleted by a bounded sweep after writes.</summary>
    /// <value>Default <see langword="null"/>: kept forever.</value>
    public TimeSpan? Retention { get; set; }

    /// <summary>Gets or sets how often at most each instance runs the retention sweep.</summary>
    /// <value>Default 10 minutes.</value>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets the most records copied in one transaction; larger writes are split.</summary>
    /// <value>Default 5000; 1 to 100,000.</value>
    public int BatchSize { get; set; } = 5000;
}

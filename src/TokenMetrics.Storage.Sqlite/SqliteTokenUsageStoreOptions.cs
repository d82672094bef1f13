namespace TokenMetrics.Storage.Sqlite;

/// <summary>Settings of the <see cref="SqliteTokenUsageStore"/>.</summary>
public sealed class SqliteTokenUsageStoreOptions
{
    /// <summary>The default database file, relative to the current directory: <c>./.tokenmetrics/usage.db</c>.</summary>
    public const string DefaultDatabasePath = "./.tokenmetrics/usage.db";

    /// <summary>The default <see cref="PageSize"/>: 16,384 bytes.</summary>
    public const int DefaultPageSize = 16_384;

    /// <summary>Gets or sets a full SQLite connection string; when set, <see cref="DatabasePath"/> is ignored.</summary>
    /// <value>Default <see langword="null"/>. Never logged.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the database file. Its directory is created owner-only (0700) and a new file owner-only (0600).</summary>
    /// <value>Default <see cref="DefaultDatabasePath"/> (<c>./.tokenmetrics/usage.db</c>, relative to the current directory when the store starts).</value>
    public string DatabasePath { get; set; } = DefaultDatabasePath;

    /// <summary>Gets or sets how long records are kept; older ones are deleted by a bounded sweep after writes.</summary>
    /// <value>Default <see langword="null"/>: kept forever.</value>
    public TimeSpan? Retention { get; set; }

    /// <summary>Gets or sets how often at most the retention sweep runs.</summary>
    /// <value>Default 10 minutes.</value>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets the most records written in one transaction; larger writes are split.</summary>
    /// <value>Default 1000; 1 to 100,000.</value>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Gets or sets the page size of a database this store creates (a power of two from 512 to 65,536 bytes). An existing
    /// database keeps the page size it was created with.</summary>
    /// <value>Default <see cref="DefaultPageSize"/> (16 KiB; SQLite's own default is 4 KiB). Larger pages mean fewer pages and fewer
    /// WAL frames per batch, so bulk writes cost less; each commit writes whole pages, so a commit of a few records writes more
    /// bytes.</value>
    public int PageSize { get; set; } = DefaultPageSize;

    /// <summary>Gets or sets how long a connection waits for a lock held by another connection or process.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

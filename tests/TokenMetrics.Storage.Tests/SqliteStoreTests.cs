using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Storage.Tests;

/// <summary>The store contract and SQLite specifics, on a temp database file per test.</summary>
public sealed class SqliteStoreTests : StoreContractTests
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override Task<ITokenUsageStore> CreateStoreAsync(TimeSpan? retention = null, TimeProvider? timeProvider = null) =>
        Task.FromResult<ITokenUsageStore>(new SqliteTokenUsageStore(
            new SqliteTokenUsageStoreOptions { DatabasePath = Path.Combine(_dir, Guid.NewGuid().ToString("N"), "usage.db"), Retention = retention, BatchSize = 300 },
            timeProvider: timeProvider));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string DbPath(string name = "usage.db") => Path.Combine(_dir, name);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Initialize_CreatesWalDatabaseOwnerOnly()
    {
        var path = Path.Combine(_dir, "nested", "usage.db");
        await using var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path });
        await store.WriteAsync([Rec()], Ct);

        Assert.Equal(Path.GetFullPath(path), store.DatabaseFullPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT version FROM tm_schema_version";
        Assert.Equal(1L, (long?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Initialize_DatabaseFromNewerVersion_Throws()
    {
        var path = DbPath();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.InitializeAsync();
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO tm_schema_version (version, description, applied_at_utc_ticks) VALUES (99, 'future', 0)";
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        await using var newer = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path });
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await newer.InitializeAsync());
        Assert.Contains("version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoStoresOnOneFile_WriteConcurrently_AllRecordsStoredOnce()
    {
        var path = DbPath();
        await using var a = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path });
        await using var b = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path });
        var records = Enumerable.Range(0, 3000).Select(i => Rec(T0.AddMilliseconds(i))).ToList();

        var inserted = await Task.WhenAll(
            Task.Run(async () => { var n = 0; foreach (var c in records.Take(2000).Chunk(50)) { n += await a.WriteAsync(c, CancellationToken.None); } return n; }),
            Task.Run(async () => { var n = 0; foreach (var c in records.Skip(1000).Chunk(50)) { n += await b.WriteAsync(c, CancellationToken.None); } return n; }));

        Assert.Equal(3000, inserted.Sum());
        Assert.Equal(3000, (await a.QueryAsync(new TokenUsageQuery(), Ct)).Total);
    }

    [Fact]
    public async Task AddSqliteStore_RegistersStoreAndExporter()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics().RemoveMeterExporter().AddSqliteStore(o => o.DatabasePath = DbPath());
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<ITokenUsageStore>();
        Assert.IsType<SqliteTokenUsageStore>(store);
        Assert.Same(store, provider.GetRequiredService<SqliteTokenUsageStore>());
        var exporter = Assert.Single(provider.GetServices<ITokenUsageExporter>().OfType<StoreTokenUsageExporter>());
        Assert.Same(store, exporter.Store);

        await exporter.ExportAsync([Rec()], Ct);
        Assert.Equal(1, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);
    }

    [Fact]
    public void Options_DefaultDatabasePath_IsExplicit()
    {
        Assert.Equal("./.tokenmetrics/usage.db", new SqliteTokenUsageStoreOptions().DatabasePath);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { Retention = TimeSpan.Zero }));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TokenMetrics.Storage.PostgreSql;

namespace TokenMetrics.Storage.Tests;

/// <summary>The store contract and PostgreSQL specifics, on a real server (one schema per test).</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed partial class PostgreSqlStoreTests(PostgreSqlServerFixture server) : StoreContractTests
{
    private static string NewSchema() => "t_" + Guid.NewGuid().ToString("N");

    /// <summary>Takes a schema back to version 9: the key hash and its indexes go, the day rows' md5 key index comes back.</summary>
    private static string PostgreSqlUndoVersion10(string schema) =>
        $"DROP INDEX \"{schema}\".ix_tm_usage_rollup_day_rank, \"{schema}\".ix_tm_usage_rollup_day_hash; ALTER TABLE \"{schema}\".tm_usage_rollup DROP COLUMN khash; "
        + $"CREATE INDEX ix_tm_usage_rollup_day_key ON \"{schema}\".tm_usage_rollup (dim, md5(dkey), bucket) WHERE grain = {TimeSpan.TicksPerDay}; "
        + $"DELETE FROM \"{schema}\".tm_schema_version WHERE version = 10; ";

    /// <summary>Takes a schema back to version 8: the day rows' key index goes.</summary>
    private static string PostgreSqlUndoVersion9(string schema) =>
        PostgreSqlUndoVersion10(schema) + $"DROP INDEX \"{schema}\".ix_tm_usage_rollup_day_key; DELETE FROM \"{schema}\".tm_schema_version WHERE version = 9; ";

    /// <summary>Takes a schema back to version 7: the session summary's page-order and long-session indexes go.</summary>
    private static string PostgreSqlUndoVersion8(string schema) =>
        PostgreSqlUndoVersion9(schema) + $"DROP INDEX \"{schema}\".ix_tm_usage_session_cost, \"{schema}\".ix_tm_usage_session_tokens, \"{schema}\".ix_tm_usage_session_long; "
        + $"DELETE FROM \"{schema}\".tm_schema_version WHERE version = 8; ";

    private PostgreSqlTokenUsageStore NewPgStore(string schema, TimeSpan? retention = null, TimeProvider? timeProvider = null) =>
        new(new PostgreSqlTokenUsageStoreOptions { ConnectionString = server.ConnectionString, Schema = schema, Retention = retention, BatchSize = 700 }, timeProvider: timeProvider);

    protected override Task<ITokenUsageStore> CreateStoreAsync(TimeSpan? retention = null, TimeProvider? timeProvider = null) =>
        Task.FromResult<ITokenUsageStore>(NewPgStore(NewSchema(), retention, timeProvider));

    protected override void UseRollup(ITokenUsageStore store, bool use) => ((PostgreSqlTokenUsageStore)store).UseRollup = use;

    protected override ValueTask FoldAsync(ITokenUsageStore store) => ((PostgreSqlTokenUsageStore)store).FoldAsync();

    [Fact]
    public async Task TwoInstancesStartingTogether_MigrateOnceAndShareTheStore()
    {
        var schema = NewSchema();
        var instances = Enumerable.Range(0, 6).Select(_ => NewPgStore(schema)).ToList();
        try
        {
            // Six instances race to create the schema: the advisory lock serialises them, so none fails.
            await Task.WhenAll(instances.Select(i => Task.Run(async () => await i.InitializeAsync())));

            var records = Enumerable.Range(0, 3000).Select(i => Rec(T0.AddMilliseconds(i))).ToList();
            var inserted = await Task.WhenAll(instances.Select((store, w) => Task.Run(async () =>
            {
                var n = 0;
                foreach (var chunk in records.Skip(w * 400).Take(1000).Chunk(250))
                {
                    n += await store.WriteAsync(chunk, CancellationToken.None);
                }

                return n;
            })));

            Assert.Equal(3000, inserted.Sum());
            Assert.Equal(3000, (await instances[0].QueryAsync(new TokenUsageQuery(), Ct)).Total);

            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{schema}\".tm_schema_version", connection);
            Assert.Equal(10L, (long)(await command.ExecuteScalarAsync())!);
        }
        finally
        {
            foreach (var i in instances)
            {
                await i.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Initialize_Version2Schema_MigratesToVersion3_OldRecordsKeptAndCountedUnpriced()
    {
        // A schema written before costs existed (version 2): made here by undoing migration 3 on a new one.
        var schema = NewSchema();
        var old = Rec(model: "gpt-4o", input: 11, output: 3);
        await using (var store = NewPgStore(schema))
        {
            await store.WriteAsync([old], Ct);
        }

        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                PostgreSqlUndoVersion8(schema) + $"DELETE FROM \"{schema}\".tm_schema_version WHERE version = 7; " +
                $"DROP TABLE \"{schema}\".tm_rollup_state; ALTER TABLE \"{schema}\".tm_usage DROP COLUMN seq; DELETE FROM \"{schema}\".tm_schema_version WHERE version = 6; " +
                $"DROP TABLE \"{schema}\".tm_usage_session; DELETE FROM \"{schema}\".tm_schema_version WHERE version = 5; " +
                $"DROP TABLE \"{schema}\".tm_usage_rollup; DELETE FROM \"{schema}\".tm_schema_version WHERE version = 4; " +
                $"ALTER TABLE \"{schema}\".tm_usage DROP COLUMN cost, DROP COLUMN currency, DROP COLUMN priced_model, DROP COLUMN feature, DROP COLUMN content; " +
                $"DELETE FROM \"{schema}\".tm_schema_version WHERE version = 3",
                connection);
            await command.ExecuteNonQueryAsync();
        }

        var priced = Rec(model: "gpt-4o", input: 20, output: 4) with { Cost = 12345678901234.000000000001m, Currency = "USD", Feature = "search" };
        await using (var upgraded = NewPgStore(schema))
        {
            await upgraded.WriteAsync([priced], Ct);
            var page = await upgraded.QueryAsync(new TokenUsageQuery(), Ct);
            Assert.Equal(2, page.Total);
            Assert.Null(Assert.Single(page.Records, r => r.Id == old.Id).Cost);
            Assert.Equal(priced.Cost, Assert.Single(page.Records, r => r.Id == priced.Id).Cost);
            var totals = Assert.Single(await upgraded.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
            Assert.Equal(1, totals.UnpricedCalls);
            Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 12345678901234.000000000001m }, totals.Costs);
        }

        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT max(version) FROM \"{schema}\".tm_schema_version", connection);
            Assert.Equal(10, Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Initialize_DatabaseFromNewerVersion_Throws()
    {
        var schema = NewSchema();
        await using (var store = NewPgStore(schema))
        {
            await store.InitializeAsync();
        }

        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"INSERT INTO \"{schema}\".tm_schema_version VALUES (99, 'future', 0)", connection);
            await command.ExecuteNonQueryAsync();
        }

        await using var newer = NewPgStore(schema);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await newer.InitializeAsync());
        Assert.Contains("version 99", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1abc")]
    [InlineData("tokenmetrics\"; DROP SCHEMA public; --")]
    [InlineData("a b")]
    public void Options_InvalidSchema_Throws(string schema) =>
        Assert.Throws<ArgumentException>(() => new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = "Host=127.0.0.1", Schema = schema }));

    [Fact]
    public async Task ConnectionFailure_DoesNotLeakThePassword()
    {
        await using var store = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions
        {
            ConnectionString = "Host=127.0.0.1;Port=1;Username=x;Password=s3cr3t-canary;Timeout=2",
        });
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await store.WriteAsync([Rec()], Ct));
        Assert.DoesNotContain("s3cr3t-canary", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPostgreSqlStore_RegistersStoreAndExporter()
    {
        var services = new ServiceCollection();
        var schema = NewSchema();
        services.AddTokenMetrics().RemoveMeterExporter().AddPostgreSqlStore(o => { o.ConnectionString = server.ConnectionString; o.Schema = schema; });
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<ITokenUsageStore>();
        Assert.IsType<PostgreSqlTokenUsageStore>(store);
        var exporter = Assert.Single(provider.GetServices<ITokenUsageExporter>().OfType<StoreTokenUsageExporter>());
        Assert.Same(store, exporter.Store);
        await exporter.ExportAsync([Rec()], Ct);
        Assert.Equal(1, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);
    }
}

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

    protected override void UseRollup(ITokenUsageStore store, bool use) => ((SqliteTokenUsageStore)store).UseRollup = use;

    protected override ValueTask FoldAsync(ITokenUsageStore store) => ((SqliteTokenUsageStore)store).FoldAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Takes a new database back to schema version 4: the record indexes migration 5 dropped come back.</summary>
    internal const string UndoVersion8 = """
        DROP TABLE tm_usage_session;
        DROP INDEX ix_tm_usage_rollup_session;
        DROP INDEX ix_tm_usage_rollup_day_keys;
        DELETE FROM tm_schema_version WHERE version = 8;

        """;

    internal const string UndoVersion7 = UndoVersion8 + """
        CREATE TABLE tm_usage_tag (usage_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (usage_seq, key)) WITHOUT ROWID;
        CREATE INDEX ix_tm_usage_tag_key_value ON tm_usage_tag (key, value, usage_seq);
        INSERT INTO tm_usage_tag (usage_seq, key, value) SELECT u.seq, j.key, j.value FROM tm_usage u, json_each(u.tags) j WHERE u.tags IS NOT NULL;
        DELETE FROM tm_schema_version WHERE version = 7;

        """;

    internal const string UndoVersion6 = UndoVersion7 + """
        DROP TABLE tm_rollup_state;
        DELETE FROM tm_schema_version WHERE version = 6;

        """;

    internal const string UndoVersion5 = UndoVersion6 + """
        CREATE INDEX ix_tm_usage_model_ts ON tm_usage (model, ts);
        CREATE INDEX ix_tm_usage_request_model ON tm_usage (request_model) WHERE request_model IS NOT NULL;
        CREATE INDEX ix_tm_usage_routed_model ON tm_usage (routed_model) WHERE routed_model IS NOT NULL;
        CREATE INDEX ix_tm_usage_provider_ts ON tm_usage (provider, ts);
        CREATE INDEX ix_tm_usage_user_ts ON tm_usage (user_id, ts) WHERE user_id IS NOT NULL;
        CREATE INDEX ix_tm_usage_consumer_ts ON tm_usage (consumer, ts) WHERE consumer IS NOT NULL;
        CREATE INDEX ix_tm_usage_feature_ts ON tm_usage (feature, ts) WHERE feature IS NOT NULL;
        CREATE INDEX ix_tm_usage_operation ON tm_usage (operation_id) WHERE operation_id IS NOT NULL;
        DELETE FROM tm_schema_version WHERE version = 5;

        """;

    /// <summary>Takes a new database back to schema version 3: the rollup goes, version 3's daily rollup tables and triggers
    /// come back (empty: migration 4 drops them and rebuilds the rollup from the records).</summary>
    internal const string UndoVersion4 = UndoVersion5 + """
        DROP TABLE tm_usage_rollup;
        CREATE TABLE tm_usage_daily (day INTEGER NOT NULL, mkey NOT NULL, model TEXT, calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL, estimated_calls INTEGER NOT NULL, missing_calls INTEGER NOT NULL, failed_calls INTEGER NOT NULL,
            duration_ticks INTEGER NOT NULL, unpriced_calls INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, mkey));
        CREATE TABLE tm_usage_daily_cost (day INTEGER NOT NULL, mkey NOT NULL, model TEXT, currency TEXT NOT NULL, calls INTEGER NOT NULL,
            cost_hi INTEGER NOT NULL, cost_lo INTEGER NOT NULL, PRIMARY KEY (day, mkey, currency));
        CREATE TRIGGER tm_usage_daily_insert AFTER INSERT ON tm_usage BEGIN SELECT 1; END;
        CREATE TRIGGER tm_usage_daily_delete AFTER DELETE ON tm_usage BEGIN SELECT 1; END;
        DELETE FROM tm_schema_version WHERE version = 4;

        """;

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
        command.CommandText = "SELECT MAX(version) FROM tm_schema_version";
        Assert.Equal(8L, (long?)await command.ExecuteScalarAsync());
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
    public async Task Initialize_Version6Database_MigratesToVersion7_TagRowsDroppedTagQueriesUnchanged()
    {
        // A database of schema version 6 (one row per tag in tm_usage_tag): made here by undoing migration 7 on a new one.
        var path = DbPath();
        var records = Enumerable.Range(0, 12).Select(i => Rec(model: "m" + (i % 2), input: 10 + i, output: 1, at: T0.AddMinutes(i), session: "s" + (i % 3),
            tags: new Dictionary<string, string> { ["team"] = i % 3 == 0 ? "a" : "b", ["k.\"q\""] = "v" + (i % 2) })).ToList();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync(records, default);
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoVersion7 + "SELECT COUNT(*) FROM tm_usage_tag";
            Assert.Equal(24L, (long?)await command.ExecuteScalarAsync());
        }

        SqliteConnection.ClearAllPools();
        await using (var upgraded = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            var page = await upgraded.QueryAsync(new TokenUsageQuery { Tags = new Dictionary<string, string> { ["team"] = "a", ["k.\"q\""] = "v0" }, Limit = 100 }, default);
            Assert.Equal(records.Where((_, i) => i % 3 == 0 && i % 2 == 0).Select(r => r.Id).Order(), page.Records.Select(r => r.Id).Order());
            var byTeam = await upgraded.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Tag, TagKey = "team" }, default);
            Assert.Equal([("a", 4L), ("b", 8L)], byTeam.Select(a => (a.Keys["tag"]!, a.Calls)).OrderBy(x => x).ToArray());

            // Session queries over the migrated records and a new one, before and after its fold.
            var added = Rec(at: T0.AddMinutes(30), session: "s1");
            await upgraded.WriteAsync([added], default);
            foreach (var folded in new[] { false, true })
            {
                var session = await upgraded.QueryAsync(new TokenUsageQuery { SessionId = "s1", Limit = 100 }, default);
                Assert.Equal(records.Where((_, i) => i % 3 == 1).Select(r => r.Id).Append(added.Id).Order(), session.Records.Select(r => r.Id).Order());
                await upgraded.FoldAsync();
            }
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT MAX(version) FROM tm_schema_version) * 10 + (SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'tm_usage_tag%' OR name = 'ix_tm_usage_tag_key_value')";
            Assert.Equal(80L, (long?)await command.ExecuteScalarAsync()); // version 8, no tag table
        }
    }

    [Fact]
    public async Task Initialize_Version5Database_MigratesToVersion6_RollupKeptAndNewRecordsFolded()
    {
        // A database of schema version 5 (the rollup kept in the write transaction): made here by undoing migration 6 on a new one
        // whose records were folded on dispose.
        var path = DbPath();
        var old = Enumerable.Range(0, 30).Select(i => Rec(model: "m" + (i % 3), input: 10 + i, output: 1, at: T0.AddMinutes(i * 7))).ToList();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync(old, default);
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoVersion6 + "SELECT SUM(calls) FROM tm_usage_rollup WHERE dim = 0 AND grain = 864000000000";
            Assert.Equal(30L, (long?)await command.ExecuteScalarAsync());
        }

        var added = Enumerable.Range(0, 20).Select(i => Rec(model: "m" + (i % 4), input: 100 + i, output: 2, at: T0.AddMinutes(3 + i * 11))).ToList();
        await using (var upgraded = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            Assert.Equal(20, await upgraded.WriteAsync(added, default));
            var query = new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Hour, Limit = 1000 };
            var expected = old.Concat(added).GroupBy(r => (r.RequestModel, r.Timestamp.UtcTicks / TimeSpan.TicksPerHour))
                .Select(g => (g.Key.RequestModel, g.Count(), g.Sum(r => r.Usage.InputTokenCount!.Value))).OrderBy(x => x).ToList();
            async Task<List<(string?, int, long)>> Actual() => (await upgraded.AggregateAsync(query, default))
                .Select(a => (a.Keys["model"], (int)a.Calls, a.InputTokens)).OrderBy(x => x).ToList();
            Assert.Equal(expected, await Actual()); // the migrated rollup plus the 20 records past the watermark
            await upgraded.FoldAsync();
            Assert.Equal(expected, await Actual());
            upgraded.UseRollup = false;
            Assert.Equal(expected, await Actual());
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT MAX(version) FROM tm_schema_version) * 1000000 + (SELECT folded_seq FROM tm_rollup_state) - (SELECT MAX(seq) FROM tm_usage)";
            Assert.Equal(8_000_000L, (long?)await command.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task Initialize_Version1Database_MigratesToVersion2_OldRecordsKept()
    {
        // A database written before tool-loop rounds existed (schema version 1): made here by undoing migration 2 on a new one.
        var path = DbPath();
        var old = Rec(model: "gpt-4o", input: 11, output: 3);
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync([old], default);
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoVersion4 + """
                DROP TRIGGER tm_usage_daily_insert;
                DROP TRIGGER tm_usage_daily_delete;
                DROP TABLE tm_usage_daily_cost;
                DROP INDEX ix_tm_usage_feature_ts;
                ALTER TABLE tm_usage DROP COLUMN cost;
                ALTER TABLE tm_usage DROP COLUMN currency;
                ALTER TABLE tm_usage DROP COLUMN priced_model;
                ALTER TABLE tm_usage DROP COLUMN feature;
                ALTER TABLE tm_usage DROP COLUMN content;
                ALTER TABLE tm_usage_daily DROP COLUMN unpriced_calls;
                CREATE TRIGGER tm_usage_daily_insert AFTER INSERT ON tm_usage BEGIN SELECT 1; END;
                CREATE TRIGGER tm_usage_daily_delete AFTER DELETE ON tm_usage BEGIN SELECT 1; END;
                DELETE FROM tm_schema_version WHERE version = 3;
                DROP INDEX ix_tm_usage_operation;
                ALTER TABLE tm_usage DROP COLUMN operation_id;
                ALTER TABLE tm_usage DROP COLUMN round_index;
                DELETE FROM tm_schema_version WHERE version = 2;
                """;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        var operation = Guid.CreateVersion7();
        var round = Rec(model: "gpt-4o", input: 20, output: 4) with { OperationId = operation, RoundIndex = 1 };
        await using (var upgraded = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await upgraded.WriteAsync([round], default);
            var page = await upgraded.QueryAsync(new TokenUsageQuery { Limit = 10 }, default);

            Assert.Equal(2, page.Total);
            var oldBack = Assert.Single(page.Records, r => r.Id == old.Id);
            Assert.Null(oldBack.OperationId);
            Assert.Null(oldBack.RoundIndex);
            Assert.Equal(11, oldBack.Usage.InputTokenCount);
            var roundBack = Assert.Single(page.Records, r => r.Id == round.Id);
            Assert.Equal(operation, roundBack.OperationId);
            Assert.Equal(1, roundBack.RoundIndex);
        }

        SqliteConnection.ClearAllPools();
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(version) FROM tm_schema_version";
            Assert.Equal(8L, (long)(await command.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task Initialize_Version2Database_MigratesToVersion3_OldRecordsKeptAndCountedUnpriced()
    {
        // A database written before costs existed (schema version 2): made here by undoing migration 3 on a new one. Its
        // triggers are version 2's (they keep the per-day rollup without cost); migration 3 replaces them.
        var path = DbPath();
        var old = Rec(model: "gpt-4o", input: 11, output: 3, session: "s1");
        var oldMissing = Rec(model: "gpt-4o", input: null, output: null, source: TokenUsageSource.Missing, status: TokenUsageStatus.Error);
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync([old, oldMissing], default);
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoVersion4 + """
                DROP TRIGGER tm_usage_daily_insert;
                DROP TRIGGER tm_usage_daily_delete;
                DROP TABLE tm_usage_daily_cost;
                DROP INDEX ix_tm_usage_feature_ts;
                ALTER TABLE tm_usage DROP COLUMN cost;
                ALTER TABLE tm_usage DROP COLUMN currency;
                ALTER TABLE tm_usage DROP COLUMN priced_model;
                ALTER TABLE tm_usage DROP COLUMN feature;
                ALTER TABLE tm_usage DROP COLUMN content;
                ALTER TABLE tm_usage_daily DROP COLUMN unpriced_calls;
                CREATE TRIGGER tm_usage_daily_insert AFTER INSERT ON tm_usage BEGIN
                    INSERT INTO tm_usage_daily VALUES (
                        NEW.ts - NEW.ts % 864000000000, COALESCE(NEW.model, x'00'), NEW.model, 1,
                        COALESCE(NEW.input_tokens, 0), COALESCE(NEW.output_tokens, 0),
                        COALESCE(NEW.total_tokens, COALESCE(NEW.input_tokens, 0) + COALESCE(NEW.output_tokens, 0)),
                        COALESCE(NEW.cached_tokens, 0), COALESCE(NEW.cache_write_tokens, 0), COALESCE(NEW.reasoning_tokens, 0),
                        NEW.source = 'estimated', NEW.source = 'missing', NEW.status <> 'ok', NEW.duration_ticks)
                    ON CONFLICT (day, mkey) DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens,
                        output_tokens = output_tokens + excluded.output_tokens, total_tokens = total_tokens + excluded.total_tokens,
                        missing_calls = missing_calls + excluded.missing_calls, failed_calls = failed_calls + excluded.failed_calls,
                        duration_ticks = duration_ticks + excluded.duration_ticks;
                END;
                CREATE TRIGGER tm_usage_daily_delete AFTER DELETE ON tm_usage BEGIN SELECT 1; END;
                DELETE FROM tm_schema_version WHERE version = 3;
                """;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        var priced = Rec(model: "gpt-4o", input: 20, output: 4, session: "s1") with { Cost = 0.00042m, Currency = "USD", PricedModel = "gpt-4o", Feature = "search" };
        await using (var upgraded = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await upgraded.WriteAsync([priced], default);
            var page = await upgraded.QueryAsync(new TokenUsageQuery { Limit = 10 }, default);

            Assert.Equal(3, page.Total);
            var oldBack = Assert.Single(page.Records, r => r.Id == old.Id);
            Assert.Null(oldBack.Cost);
            Assert.Null(oldBack.Feature);
            Assert.Null(oldBack.Content);
            Assert.Equal(11, oldBack.Usage.InputTokenCount);
            Assert.Equal(0.00042m, Assert.Single(page.Records, r => r.Id == priced.Id).Cost);

            // The per-day rollup (model and day) and the record scan (no grouping) agree: the old record with usage is unpriced.
            foreach (var query in new[] { new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day }, new TokenUsageAggregateQuery() })
            {
                var totals = Assert.Single(await upgraded.AggregateAsync(query, default));
                Assert.Equal(3, totals.Calls);
                Assert.Equal(1, totals.UnpricedCalls);
                Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.00042m }, totals.Costs);
            }
        }

        SqliteConnection.ClearAllPools();
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(version) FROM tm_schema_version";
            Assert.Equal(8L, (long)(await command.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task Cost_IsStoredAsIntegerPicoUnits()
    {
        var path = DbPath();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync([Rec() with { Cost = 1.5m, Currency = "USD" }], default);
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT typeof(cost), cost FROM tm_usage";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("integer", reader.GetString(0));
        Assert.Equal(1_500_000_000_000L, reader.GetInt64(1));
    }

    [Fact]
    public async Task Write_ValuesAndNullsChangingPlaceAcrossStatementRuns_EveryRecordReadBackExactly()
    {
        // The insert statements keep their bindings between runs (a NULL is not bound again) and bind text in place from memory
        // reused after each run: a column that held a value in one run and is NULL in the next, or the reverse, and a value larger
        // than the reused memory must all come back as written. 300 records fill two 128-row runs, five 8-row runs and four single
        // rows; the pattern shifts between runs and between the two writes.
        var path = DbPath();
        var huge = "\u00e9\u4e2d\U0001F600 " + new string('x', 100_000);
        var written = new List<TokenUsageRecord>();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path, BatchSize = 300 }))
        {
            for (var write = 0; write < 2; write++)
            {
                var batch = Enumerable.Range(0, 300).Select(i => (i + write) % 3 == 0
                    ? FullRecord("-" + write + "-" + i)
                    : Rec(at: T0.AddSeconds(i), session: i % 2 == 0 ? "s" + i : null, user: i % 5 == 0 ? "\u00fc" + i : null)).ToList();
                batch[130] = FullRecord("huge") with { Content = new TokenUsageContent { Answer = huge } };
                Assert.Equal(300, await store.WriteAsync(batch, default));
                written.AddRange(batch);
            }
        }

        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            var stored = (await store.QueryAsync(new TokenUsageQuery { Limit = TokenUsageFilter.MaxLimit }, default)).Records.ToDictionary(r => r.Id);
            Assert.Equal(written.Count, stored.Count);
            foreach (var r in written)
            {
                Assert.Equal(Canonical(r), Canonical(stored[r.Id]));
            }

            Assert.Equal(huge, stored[written[130].Id].Content!.Answer);
        }
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

    [Theory]
    [InlineData("own writes")]
    [InlineData("another writer between")]
    [InlineData("duplicate skipped")]
    [InlineData("left unfolded by an earlier instance")]
    public async Task Fold_FromWhatWasWrittenOrReadBack_RollupEqualsScan(string scenario)
    {
        var path = DbPath();
        var random = new Random(7);
        TokenUsageRecord Random(int i) => Rec(T0.AddMinutes(random.Next(0, 3 * 24 * 60)), model: "m" + (i % 3), input: i, output: i % 7,
            user: i % 5 == 0 ? null : "u" + (i % 4), session: "s" + (i % 6), consumer: "c" + (i % 2), status: (TokenUsageStatus)(i % 4),
            source: (TokenUsageSource)(i % 3)) with { Feature = i % 3 == 0 ? "f" : null, Cost = i % 4 == 0 ? null : 0.000001m * i, Currency = i % 8 == 1 ? "EUR" : "USD" };
        var batches = Enumerable.Range(0, 4).Select(b => Enumerable.Range(b * 50, 50).Select(Random).ToList()).ToList();
        await using var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }) { FoldThreshold = long.MaxValue };
        await using var other = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }) { FoldThreshold = long.MaxValue };
        if (scenario == "left unfolded by an earlier instance")
        {
            await other.WriteAsync(batches[0], Ct);
            batches.RemoveAt(0);
        }

        for (var b = 0; b < batches.Count; b++)
        {
            await store.WriteAsync(batches[b], Ct);
            if (b == 1 && scenario == "another writer between")
            {
                await other.WriteAsync([Random(1000), Random(1001)], Ct);
            }

            if (b == 1 && scenario == "duplicate skipped")
            {
                Assert.Equal(1, await store.WriteAsync([batches[0][3], Random(2000)], Ct));
            }
        }

        await store.FoldAsync();
        Assert.Equal(scenario == "own writes" ? (1L, 0L) : (0L, 1L), (store.FoldsFromWrites, store.FoldsReadBack));

        foreach (var dimension in new[] { TokenUsageDimensions.None, TokenUsageDimensions.Provider, TokenUsageDimensions.Model, TokenUsageDimensions.User, TokenUsageDimensions.Consumer, TokenUsageDimensions.Session, TokenUsageDimensions.Status, TokenUsageDimensions.Feature })
        {
            foreach (var bucket in new[] { TokenUsageTimeBucket.Hour, TokenUsageTimeBucket.Day })
            {
                var query = new TokenUsageAggregateQuery { GroupBy = dimension, Bucket = bucket, From = T0, To = T0.AddDays(3), Limit = TokenUsageFilter.MaxLimit };
                store.UseRollup = true;
                var rollup = await store.AggregateAsync(query, Ct);
                store.UseRollup = false;
                var scan = await store.AggregateAsync(query, Ct);
                Assert.NotEmpty(rollup);
                Assert.Equal(DescribeWithCost(scan), DescribeWithCost(rollup));
            }
        }

        // The session summary was kept by the same fold, whichever path it took.
        Assert.Equal(await SessionPagesAsync(store, rollup: false), await SessionPagesAsync(store, rollup: true));
    }

    [Fact]
    public async Task Initialize_Version7Database_MigratesToVersion8_SummaryFromFoldedRecordsOnly()
    {
        // A database of schema version 7 with records past the watermark: made by undoing migration 8 on a new, folded one and
        // copying some of its records under new ids and sequences (unfolded). The summary is backfilled from the folded records
        // only: the fold adds the others later, and the pages stay equal to the scan before and after it.
        var path = DbPath();
        var random = new Random(8);
        var records = Enumerable.Range(0, 400).Select(i => Rec(T0.AddMinutes(random.Next(0, 3 * 24 * 60)), input: 10 + i, session: "s" + (i % 37))
            with { Cost = i % 5 == 0 ? null : 0.001m * (i % 11), Currency = i % 6 == 0 ? "EUR" : "USD" }).ToList();
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
        {
            await store.WriteAsync(records, Ct);
        }

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoVersion8 + """
                CREATE TEMP TABLE copied AS SELECT * FROM tm_usage WHERE session_id IN ('s1', 's2', 's30') OR seq % 9 = 0;
                UPDATE copied SET seq = NULL, id = randomblob(16), ts = ts + 600000000;
                INSERT INTO tm_usage SELECT * FROM copied;
                SELECT (SELECT COUNT(*) FROM tm_usage WHERE seq > (SELECT folded_seq FROM tm_rollup_state)) * 10 + (SELECT MAX(version) FROM tm_schema_version);
                """;
            var unfolded = (long)(await command.ExecuteScalarAsync())!;
            Assert.True(unfolded / 10 > 40 && unfolded % 10 == 7, $"{unfolded}");
        }

        SqliteConnection.ClearAllPools();
        await using (var upgraded = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }) { FoldThreshold = long.MaxValue })
        {
            var scan = await SessionPagesAsync(upgraded, rollup: false);
            Assert.Equal(scan, await SessionPagesAsync(upgraded, rollup: true));
            await upgraded.FoldAsync();
            Assert.Equal(scan, await SessionPagesAsync(upgraded, rollup: false));
            Assert.Equal(scan, await SessionPagesAsync(upgraded, rollup: true));
        }
    }

    /// <summary>Every session page over four ranges (whole and cut), three orders and two page sizes, described in full.</summary>
    private async Task<List<string>> SessionPagesAsync(SqliteTokenUsageStore store, bool rollup)
    {
        store.UseRollup = rollup;
        var pages = new List<string>();
        foreach (var (from, to) in new (DateTimeOffset?, DateTimeOffset?)[] { (null, null), (T0, T0.AddDays(4)), (T0.AddHours(30), T0.AddHours(50)), (T0.AddDays(1), null) })
        {
            foreach (var sort in new[] { TokenUsageSessionSort.Updated, TokenUsageSessionSort.Cost, TokenUsageSessionSort.Tokens })
            {
                foreach (var (offset, limit) in new[] { (0, 5), (3, 1000) })
                {
                    var sessions = await store.GetSessionsAsync(new TokenUsageSessionQuery { From = from, To = to, SortBy = sort, Offset = offset, Limit = limit }, Ct);
                    pages.Add($"{from}-{to} {sort} {offset}: " + string.Join("; ", sessions.Select(s =>
                        $"{s.SessionId} {s.Totals.Calls} {s.Totals.TotalTokens} {string.Join(',', s.Totals.Costs.OrderBy(c => c.Key).Select(c => c.Key + "=" + c.Value))} {s.UpdatedAt:O}")));
                }
            }
        }

        store.UseRollup = true;
        Assert.True(pages.Sum(p => p.Length) > 5_000, "too few sessions described");
        return pages;
    }

    [Fact]
    public async Task SessionQueries_BeforeAndAfterFoldAndRetention_Exact()
    {
        var path = DbPath();
        await using var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }) { FoldThreshold = long.MaxValue };
        var records = Enumerable.Range(0, 300).Select(i => Rec(T0.AddMinutes(i * 10), session: i % 4 == 0 ? null : "s" + (i % 5))).ToList();
        await store.WriteAsync(records, Ct);

        async Task CheckAsync(IEnumerable<TokenUsageRecord> expected)
        {
            foreach (var session in new[] { "s1", "s2", "s0" })
            {
                var page = await store.QueryAsync(new TokenUsageQuery { SessionId = session, Limit = 1000 }, Ct);
                Assert.Equal(expected.Where(r => r.SessionId == session).Select(r => r.Id).Order(), page.Records.Select(r => r.Id).Order());
            }
        }

        await CheckAsync(records); // all unfolded
        await store.FoldAsync();
        await CheckAsync(records);
        await store.DeleteOlderThanAsync(T0.AddMinutes(1000), Ct);
        var kept = records.Where(r => r.Timestamp >= T0.AddMinutes(1000)).ToList();
        await CheckAsync(kept);
    }

    private static List<string> DescribeWithCost(IReadOnlyList<TokenUsageAggregate> rows) =>
        rows.Select(r => $"{string.Join(',', r.Keys.OrderBy(k => k.Key).Select(k => k.Key + "=" + k.Value))}|{r.BucketStart:O}|{r.Calls}|{r.InputTokens}|{r.OutputTokens}|{r.TotalTokens}|{r.EstimatedCalls}|{r.MissingCalls}|{r.FailedCalls}|{r.TotalDuration}|{string.Join(',', r.Costs.OrderBy(c => c.Key).Select(c => c.Key + "=" + c.Value))}|{r.UnpricedCalls}")
            .Order(StringComparer.Ordinal).ToList();

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
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { PageSize = 256 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { PageSize = 131_072 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { PageSize = 12_288 }));
    }

    [Fact]
    public async Task PageSize_AppliesToNewDatabase_ExistingKeepsItsOwn()
    {
        var path = DbPath("pages.db");
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path, PageSize = 32_768 }))
        {
            Assert.Equal(1, await store.WriteAsync([Rec()], Ct));
        }

        Assert.Equal(32_768L, PageSizeOf(path));

        // Reopened with another setting: the file keeps its pages and its records.
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path, PageSize = 4_096 }))
        {
            Assert.Equal(1, await store.WriteAsync([Rec()], Ct));
            Assert.Equal(2, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);
        }

        Assert.Equal(32_768L, PageSizeOf(path));

        var fresh = DbPath("default-pages.db");
        await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = fresh }))
        {
            await store.InitializeAsync(Ct);
        }

        Assert.Equal((long)SqliteTokenUsageStoreOptions.DefaultPageSize, PageSizeOf(fresh));
    }

    [Fact]
    public async Task BulkWrites_CheckpointBesideTheWriter_PagesReachTheDatabaseAndNothingIsLost()
    {
        // The same 10,000 records with and without the background checkpoint. Without it the pages stay in the WAL (the writer's own
        // autocheckpoint waits for 40 MiB of them), so the database file holds little more than the schema until the store closes.
        var (withCheckpoints, withBytes) = await WriteAsync("with.db", checkpointRecords: 1_000);
        var (without, withoutBytes) = await WriteAsync("without.db", checkpointRecords: long.MaxValue);

        Assert.InRange(withCheckpoints, 1, 10); // at most one per 1,000 records, none started while one runs
        Assert.Equal(0, without);
        Assert.True(withBytes > 2 * withoutBytes, $"database file {withBytes:N0} B with checkpoints, {withoutBytes:N0} B without");

        foreach (var name in new[] { "with.db", "without.db" })
        {
            await using var reopened = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = DbPath(name) });
            Assert.Equal(10_000, (await reopened.QueryAsync(new TokenUsageQuery(), Ct)).Total);
        }

        async Task<(long Checkpoints, long DatabaseBytes)> WriteAsync(string name, long checkpointRecords)
        {
            var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = DbPath(name), BatchSize = 500 }) { CheckpointRecords = checkpointRecords };
            long bytes;
            await using (store)
            {
                for (var b = 0; b < 20; b++)
                {
                    var batch = Enumerable.Range(0, 500).Select(i => Rec(T0.AddSeconds((b * 500) + i), session: "s-" + (i % 37))).ToList();
                    Assert.Equal(500, await store.WriteAsync(batch, Ct));
                }

                await store.CheckpointCompletion;
                bytes = new FileInfo(DbPath(name)).Length;
            }

            return (store.Checkpoints, bytes);
        }
    }

    private static long PageSizeOf(string path)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection("Data Source=" + path + ";Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_size";
        return (long)command.ExecuteScalar()!;
    }
}

/// <summary>The rollup's whole-day answers ("by model and day", the FinOps report) must agree with a scan of the records, also after deletes.</summary>
public sealed class SqliteDailyRollupTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-rollup-" + Guid.NewGuid().ToString("N"));
    private SqliteTokenUsageStore _store = null!;

    public Task InitializeAsync()
    {
        _store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Path.Combine(_dir, "usage.db") });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ByModelAndDay_RollupEqualsScan_AfterWritesReplaysAndDeletes()
    {
        var day0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(42);
        var records = Enumerable.Range(0, 3000).Select(i => new TokenUsageRecord
        {
            Timestamp = day0.AddMinutes(random.Next(0, 10 * 24 * 60)).ToOffset(TimeSpan.FromHours(random.Next(-12, 13))),
            RequestModel = i % 11 == 0 ? null : "m" + (i % 4),
            ResponseModel = i % 7 == 0 ? "r" + (i % 3) : null,
            Status = (TokenUsageStatus)(i % 4),
            Source = (TokenUsageSource)(i % 3),
            Duration = TimeSpan.FromMilliseconds(i),
            Usage = i % 5 == 0 ? TokenUsage.Empty : new TokenUsage
            {
                InputTokenCount = i, OutputTokenCount = i % 13, TotalTokenCount = i % 3 == 0 ? i * 2 : null,
                CachedInputTokenCount = i % 2, CacheWriteInputTokenCount = i % 3, ReasoningTokenCount = i % 9 == 0 ? null : 1,
            },
        }).ToList();
        await _store.WriteAsync(records, CancellationToken.None);
        await _store.WriteAsync(records.Take(500).ToList(), CancellationToken.None); // a replay changes nothing
        await _store.DeleteOlderThanAsync(day0.AddDays(3).AddHours(5), CancellationToken.None); // cuts a day in two

        foreach (var (groupBy, bucket) in new[] { (TokenUsageDimensions.Model, TokenUsageTimeBucket.Day), (TokenUsageDimensions.None, TokenUsageTimeBucket.Day), (TokenUsageDimensions.Model, TokenUsageTimeBucket.None), (TokenUsageDimensions.None, TokenUsageTimeBucket.None) })
        {
            var rollup = await _store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = groupBy, Bucket = bucket, From = day0.AddDays(1), To = day0.AddDays(9) }, CancellationToken.None);

            // From one tick earlier is not a whole day, so this one scans the records (none sits on that tick).
            var scan = await _store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = groupBy, Bucket = bucket, From = day0.AddDays(1).AddTicks(-1), To = day0.AddDays(9) }, CancellationToken.None);
            Assert.NotEmpty(rollup);
            Assert.Equal(Describe(scan), Describe(rollup));
        }
    }

    private static List<string> Describe(IReadOnlyList<TokenUsageAggregate> rows) =>
        rows.Select(r => $"{string.Join(',', r.Keys.OrderBy(k => k.Key).Select(k => k.Key + "=" + k.Value))}|{r.BucketStart:O}|{r.Calls}|{r.InputTokens}|{r.OutputTokens}|{r.TotalTokens}|{r.CachedInputTokens}|{r.CacheWriteInputTokens}|{r.ReasoningTokens}|{r.EstimatedCalls}|{r.MissingCalls}|{r.FailedCalls}|{r.TotalDuration}")
            .Order(StringComparer.Ordinal).ToList();
}

/// <summary>The rollup is what the aggregate reads when it can (so the rollup-equals-scan contract test compares two paths).</summary>
public sealed class SqliteRollupReadTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-rollup-read-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AlignedQueriesReadTheRollup_UnalignedOrFilteredOnAnotherDimensionScan()
    {
        var path = Path.Combine(_dir, "usage.db");
        var t0 = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
        await using var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path });
        await store.WriteAsync([new TokenUsageRecord { Timestamp = t0.AddMinutes(5), RequestModel = "m", UserId = "u", Usage = new TokenUsage { InputTokenCount = 10 } }], CancellationToken.None);
        await store.FoldAsync();

        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE tm_usage_rollup SET input_tokens = input_tokens + 1000";
            Assert.Equal(15, await command.ExecuteNonQueryAsync()); // one record: 8 dimension rows (total, provider, ... feature) x 2 grains, sessions by hour only
        }

        async Task<long> Input(TokenUsageAggregateQuery query) => Assert.Single(await store.AggregateAsync(query, CancellationToken.None)).InputTokens;
        Assert.Equal(1010, await Input(new TokenUsageAggregateQuery()));
        Assert.Equal(1010, await Input(new TokenUsageAggregateQuery { From = t0, To = t0.AddHours(1), GroupBy = TokenUsageDimensions.User }));
        Assert.Equal(1010, await Input(new TokenUsageAggregateQuery { UserId = "u", Bucket = TokenUsageTimeBucket.Hour }));
        Assert.Equal(10, await Input(new TokenUsageAggregateQuery { From = t0.AddMinutes(1) }));
        Assert.Equal(10, await Input(new TokenUsageAggregateQuery { UserId = "u", GroupBy = TokenUsageDimensions.Model }));
        Assert.Equal(10, await Input(new TokenUsageAggregateQuery { Model = "m" }));
        store.UseRollup = false;
        Assert.Equal(10, await Input(new TokenUsageAggregateQuery()));
    }
}

using System.Globalization;
using Npgsql;
using TokenMetrics.Storage.PostgreSql;

namespace TokenMetrics.Storage.Tests;

/// <summary>The fold (records past the watermark into the rollup and the session summary): after a crash, with two writers,
/// and across the migrations that introduced (6) and tuned (7) it.</summary>
public sealed partial class PostgreSqlStoreTests
{
    private static readonly TokenUsageDimensions[] FoldDimensions =
    [
        TokenUsageDimensions.None, TokenUsageDimensions.Provider, TokenUsageDimensions.Model, TokenUsageDimensions.User,
        TokenUsageDimensions.Consumer, TokenUsageDimensions.Session, TokenUsageDimensions.Status, TokenUsageDimensions.Feature,
    ];

    [Fact]
    public async Task Fold_CrashBetweenWriteAndFold_NextInstanceFoldsTheRecordsExactlyOnce()
    {
        var schema = NewSchema();
        var written = FoldRecords(0, 600);

        // The instance that "crashes": it writes and never folds (no fold threshold reached, never disposed; no pooling, so
        // nothing of it stays open on the server).
        var crashed = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = server.ConnectionString + ";Pooling=false", Schema = schema, BatchSize = 250 })
        {
            FoldThreshold = long.MaxValue,
        };
        Assert.Equal(written.Count, await crashed.WriteAsync(written, Ct));
        Assert.Equal(0, await RolledUpCallsAsync(schema)); // honest: nothing folded yet

        await using (var next = NewPgStore(schema))
        {
            // Exact before its fold (the rollup plus the records past the watermark), and after it.
            await AssertRollupEqualsScanAsync(next, written.Count);
            await next.FoldAsync();
            Assert.Equal(written.Count, await RolledUpCallsAsync(schema));
            await AssertRollupEqualsScanAsync(next, written.Count);

            // More records, folded by the threshold this time: still once each.
            next.FoldThreshold = 100;
            var more = FoldRecords(600, 300);
            Assert.Equal(more.Count, await next.WriteAsync(more, Ct));
            await next.FoldAsync();
            Assert.Equal(written.Count + more.Count, await RolledUpCallsAsync(schema));
            await AssertRollupEqualsScanAsync(next, written.Count + more.Count);
        }
    }

    [Fact]
    public async Task Fold_TwoWritersInterleaved_EveryRecordFoldedOnce()
    {
        var schema = NewSchema();
        await using var a = NewPgStore(schema);
        await using var b = NewPgStore(schema);
        a.FoldThreshold = 170;
        b.FoldThreshold = 230;
        var records = FoldRecords(0, 2000);

        // Both write at once, in small batches, over the same hours, users and sessions; each folds the other's records too.
        var inserted = await Task.WhenAll(new[] { a, b }.Select((store, w) => Task.Run(async () =>
        {
            var n = 0;
            foreach (var chunk in records.Where((_, i) => i % 2 == w).Chunk(40))
            {
                n += await store.WriteAsync(chunk, Ct);
            }

            return n;
        })));
        Assert.Equal(records.Count, inserted.Sum());

        await AssertRollupEqualsScanAsync(b, records.Count);
        await a.FoldAsync();
        Assert.Equal(records.Count, await RolledUpCallsAsync(schema));
        Assert.Equal(records.Count(r => r.SessionId is not null), await SummarisedCallsAsync(schema));
        await AssertRollupEqualsScanAsync(b, records.Count);
    }

    [Fact]
    public async Task Initialize_Version5Schema_MigratesToLatest_OldRecordsFoldedOnceNewOnesFoldedAfter()
    {
        // A version-5 schema (rollup kept by every write, no sequence, no watermark): made here by undoing migrations 7 and 6 on a
        // new one whose records are all folded, which is what a version-5 store holds.
        var schema = NewSchema();
        var old = FoldRecords(0, 400);
        await using (var store = NewPgStore(schema))
        {
            await store.WriteAsync(old, Ct);
        }

        await ExecuteAsync(
            PostgreSqlUndoVersion8(schema) + $"ALTER TABLE \"{schema}\".tm_usage_rollup RESET (fillfactor); DELETE FROM \"{schema}\".tm_schema_version WHERE version = 7; " +
            $"DROP TABLE \"{schema}\".tm_rollup_state; ALTER TABLE \"{schema}\".tm_usage DROP COLUMN seq; DELETE FROM \"{schema}\".tm_schema_version WHERE version = 6");

        await using (var upgraded = NewPgStore(schema))
        {
            await upgraded.InitializeAsync();
            Assert.Equal(10L, await ScalarAsync($"SELECT max(version) FROM \"{schema}\".tm_schema_version"));
            Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM \"{schema}\".tm_usage WHERE seq IS NULL"));
            Assert.Equal(await ScalarAsync($"SELECT max(seq) FROM \"{schema}\".tm_usage"), await ScalarAsync($"SELECT folded_seq FROM \"{schema}\".tm_rollup_state"));
            Assert.Equal(old.Count, await RolledUpCallsAsync(schema)); // not folded a second time

            var added = FoldRecords(400, 300);
            await upgraded.WriteAsync(added, Ct);
            await AssertRollupEqualsScanAsync(upgraded, old.Count + added.Count);
            await upgraded.FoldAsync();
            Assert.Equal(old.Count + added.Count, await RolledUpCallsAsync(schema));
            await AssertRollupEqualsScanAsync(upgraded, old.Count + added.Count);
        }
    }

    [Fact]
    public async Task Initialize_Version6Schema_MigratesToLatest_UnfoldedRecordsFoldedAfter()
    {
        // A version-6 schema holding folded records and records past the watermark (a store stopped before its fold).
        var schema = NewSchema();
        var folded = FoldRecords(0, 300);
        var unfolded = FoldRecords(300, 200);
        await using (var store = NewPgStore(schema))
        {
            await store.WriteAsync(folded, Ct);
            await store.FoldAsync();
        }

        var stopped = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = server.ConnectionString + ";Pooling=false", Schema = schema })
        {
            FoldThreshold = long.MaxValue,
        };
        await stopped.WriteAsync(unfolded, Ct);
        await ExecuteAsync(PostgreSqlUndoVersion8(schema) + $"ALTER TABLE \"{schema}\".tm_usage_rollup RESET (fillfactor); DELETE FROM \"{schema}\".tm_schema_version WHERE version = 7");
        Assert.Equal(folded.Count, await RolledUpCallsAsync(schema));

        await using (var upgraded = NewPgStore(schema))
        {
            await upgraded.InitializeAsync();
            Assert.Equal(10L, await ScalarAsync($"SELECT max(version) FROM \"{schema}\".tm_schema_version"));
            Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relname = 'tm_usage_rollup' AND 'fillfactor=80' = ANY (c.reloptions)"));
            await AssertRollupEqualsScanAsync(upgraded, folded.Count + unfolded.Count);
            await upgraded.FoldAsync();
            Assert.Equal(folded.Count + unfolded.Count, await RolledUpCallsAsync(schema));
            await AssertRollupEqualsScanAsync(upgraded, folded.Count + unfolded.Count);
        }
    }

    [Fact]
    public async Task Fold_CostSumBeyondDecimalDigits_FoldedExactlyByTheSqlFold()
    {
        // Each cost fits a decimal (29 digits); their sum needs 30, which decimal would round: the fold then leaves the range to
        // the SQL fold, whose numeric sum keeps every digit.
        var schema = NewSchema();
        await using var store = NewPgStore(schema);
        var cost = 5.1234567890123456789012345678m;
        var records = Enumerable.Range(0, 2).Select(i => Rec(T0.AddMinutes(i), session: "s1") with { Cost = cost, Currency = "USD" }).ToList();
        Assert.Equal(2, await store.WriteAsync(records, Ct));
        await store.FoldAsync();

        Assert.Equal(2, await RolledUpCallsAsync(schema));
        Assert.Equal("10.2469135780246913578024691356", await TextAsync($"SELECT cost::text FROM \"{schema}\".tm_usage_rollup WHERE dim = 0 AND grain = {TimeSpan.TicksPerHour}"));
        Assert.Equal("10.2469135780246913578024691356", await TextAsync($"SELECT cost::text FROM \"{schema}\".tm_usage_session"));
    }

    /// <summary>Records over six hours and two days' edge: 40 users, 70 sessions (some none), 3 models, priced and unpriced, every
    /// status and source.</summary>
    private static List<TokenUsageRecord> FoldRecords(int first, int count) => Enumerable.Range(first, count).Select(i =>
    {
        var record = Rec(
            T0.AddHours(9).AddMinutes(i * 0.7),
            model: i % 11 == 0 ? null : "m" + (i % 3),
            input: i % 13 == 0 ? null : 100 + i,
            output: i % 13 == 0 ? null : 10 + (i % 7),
            user: i % 9 == 0 ? null : "u" + (i % 40),
            session: i % 8 == 0 ? null : "s" + (i % 70),
            consumer: "c" + (i % 4),
            provider: i % 2 == 0 ? "openai" : "anthropic",
            status: i % 17 == 0 ? TokenUsageStatus.Error : TokenUsageStatus.Ok,
            source: i % 13 == 0 ? TokenUsageSource.Missing : i % 5 == 0 ? TokenUsageSource.Estimated : TokenUsageSource.Reported);
        return i % 3 == 0 ? record : record with { Cost = 0.000123m * (i % 10), Currency = i % 6 == 1 ? "EUR" : "USD", Feature = "f" + (i % 3) };
    }).ToList();

    private async Task AssertRollupEqualsScanAsync(PostgreSqlTokenUsageStore store, int count)
    {
        var day = new DateTimeOffset(T0.Date, TimeSpan.Zero);
        foreach (var (from, to) in new (DateTimeOffset? From, DateTimeOffset? To)[] { (null, null), (day.AddHours(14), day.AddDays(1).AddHours(3)) })
        {
            foreach (var dimension in FoldDimensions)
            {
                foreach (var bucket in new[] { TokenUsageTimeBucket.None, TokenUsageTimeBucket.Hour, TokenUsageTimeBucket.Day })
                {
                    var query = new TokenUsageAggregateQuery { From = from, To = to, GroupBy = dimension, Bucket = bucket, Limit = 1000 };
                    store.UseRollup = true;
                    var viaRollup = DescribeFold(await store.AggregateAsync(query, Ct));
                    store.UseRollup = false;
                    var viaScan = DescribeFold(await store.AggregateAsync(query, Ct));
                    Assert.True(viaScan.SequenceEqual(viaRollup), $"{query}: scan\n{string.Join('\n', viaScan)}\nrollup\n{string.Join('\n', viaRollup)}");
                }
            }

            var sessions = new TokenUsageSessionQuery { From = from, To = to, Limit = 100 };
            store.UseRollup = true;
            var sessionsViaRollup = (await store.GetSessionsAsync(sessions, Ct)).Select(s => $"{s.SessionId}|{s.UpdatedAt:O}|{s.Totals.Calls}|{s.Totals.TotalTokens}").ToList();
            store.UseRollup = false;
            var sessionsViaScan = (await store.GetSessionsAsync(sessions, Ct)).Select(s => $"{s.SessionId}|{s.UpdatedAt:O}|{s.Totals.Calls}|{s.Totals.TotalTokens}").ToList();
            Assert.Equal(sessionsViaScan, sessionsViaRollup);
        }

        store.UseRollup = true;
        Assert.Equal(count, Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct)).Calls);
    }

    private static List<string> DescribeFold(IReadOnlyList<TokenUsageAggregate> rows) =>
        rows.Select(r => $"{string.Join(',', r.Keys.OrderBy(k => k.Key).Select(k => k.Key + "=" + (k.Value ?? "<null>")))}|{r.BucketStart:O}|{r.Calls}|{r.InputTokens}|{r.OutputTokens}|{r.TotalTokens}|"
            + $"{r.EstimatedCalls}|{r.EstimatedTokens}|{r.MissingCalls}|{r.FailedCalls}|{r.TotalDuration}|{r.UnpricedCalls}|"
            + string.Join(',', r.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value.ToString(CultureInfo.InvariantCulture))))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>The calls in the rollup table itself (grand total, hour rows): what has been folded.</summary>
    private Task<long> RolledUpCallsAsync(string schema) =>
        ScalarAsync($"SELECT COALESCE(SUM(calls), 0) FROM \"{schema}\".tm_usage_rollup WHERE dim = 0 AND grain = {TimeSpan.TicksPerHour}");

    private Task<long> SummarisedCallsAsync(string schema) => ScalarAsync($"SELECT COALESCE(SUM(calls), 0) FROM \"{schema}\".tm_usage_session");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private async Task<string?> TextAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (string?)await command.ExecuteScalarAsync(Ct);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}

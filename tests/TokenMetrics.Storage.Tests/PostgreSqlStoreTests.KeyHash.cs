using System.Globalization;
using Npgsql;
using TokenMetrics.Storage.PostgreSql;

namespace TokenMetrics.Storage.Tests;

/// <summary>Schema 10: a top N ranked by the keys' 64-bit hash, with collisions and negative sums ranked by text instead.</summary>
public sealed partial class PostgreSqlStoreTests
{
    // A week or more of whole days (PostgreSQL ranks keys first there) with partial days at both ends, and all time.
    private static readonly (DateTimeOffset? From, DateTimeOffset? To)[] LongRanges = [(null, null), (T0.AddHours(-5), T0.AddDays(9).AddHours(2))];

    [Fact]
    public async Task TopKeys_TwoKeysShareAHash_RankedByText_RollupEqualsScan()
    {
        // "ua" and "ub" hash alike (a test hash function): together they outrank "uc", each alone does not. Ranking by hash alone
        // would put one of them first; the collision is seen and the keys are ranked by text.
        var schema = NewSchema();
        var (store, function) = await NewCollidingStoreAsync(schema);
        await using (store)
        {
            var records = new List<TokenUsageRecord>();
            foreach (var (user, cost, days) in new[] { ("ua", 1m, 3), ("ub", 1m, 3), ("uc", 1.25m, 4), ("ud", 0.5m, 2), ("ue", 0.25m, 8) })
            {
                records.AddRange(Enumerable.Range(0, days).Select(d => Rec(T0.AddDays(d).AddMinutes(user[1]), input: 100, output: 10, user: user) with { Cost = cost, Currency = "USD" }));
            }

            await store.WriteAsync(records.Take(12).ToList(), Ct);
            await store.FoldAsync();
            await store.WriteAsync(records.Skip(12).ToList(), Ct); // some past the watermark

            // Honest: the two keys' rows really share one hash in the table.
            Assert.Equal(2L, await ScalarAsync($"SELECT count(DISTINCT dkey) FROM \"{schema}\".tm_usage_rollup WHERE dim = 4 AND khash = {function}('ua', 0)"));

            var top = await store.AggregateAsync(new TokenUsageAggregateQuery { From = LongRanges[1].From, To = LongRanges[1].To, GroupBy = TokenUsageDimensions.User, SortBy = TokenUsageAggregateSort.Cost, Limit = 1 }, Ct);
            Assert.Equal("uc", Assert.Single(top).Keys["user"]);
            await AssertTopKeysEqualScanAsync(store, 6);
        }
    }

    [Fact]
    public async Task TopKeys_NegativeCostUnderASharedHash_RankedByText_RollupEqualsScan()
    {
        // "ua" (cost 12) and "ub" (cost -9) hash alike: their group sums to 3, below "uc" (6), yet "ua" ranks first. A negative sum
        // anywhere in the range sends the ranking to the text keys.
        var schema = NewSchema();
        var (store, _) = await NewCollidingStoreAsync(schema);
        await using (store)
        {
            var records = new List<TokenUsageRecord>();
            foreach (var (user, cost) in new[] { ("ua", 4m), ("ub", -3m), ("uc", 2m), ("ud", 0.5m) })
            {
                records.AddRange(Enumerable.Range(0, 3).Select(d => Rec(T0.AddDays(d * 3).AddMinutes(user[1]), input: 100, output: 10, user: user) with { Cost = cost, Currency = "USD" }));
            }

            await store.WriteAsync(records, Ct);
            await store.FoldAsync();
            var top = await store.AggregateAsync(new TokenUsageAggregateQuery { From = LongRanges[1].From, To = LongRanges[1].To, GroupBy = TokenUsageDimensions.User, SortBy = TokenUsageAggregateSort.Cost, Limit = 1 }, Ct);
            Assert.Equal("ua", Assert.Single(top).Keys["user"]);
            await AssertTopKeysEqualScanAsync(store, 4);
        }
    }

    [Fact]
    public async Task Initialize_Version9Schema_MigratesTo10_KeyHashesFilled_TopKeysEqualScan()
    {
        var schema = NewSchema();
        var records = Enumerable.Range(0, 600).Select(i => Rec(
            T0.AddHours(-5).AddMinutes(i * 23), input: 100 + (i % 7 * 50), output: 10, user: i % 11 == 0 ? null : i % 13 == 0 ? string.Empty : "u" + (i % 17),
            model: "m" + (i % 4)) with { Cost = i % 5 == 0 ? null : 0.01m * (i % 3 + 1), Currency = "USD" }).ToList();
        await using (var store = NewPgStore(schema))
        {
            await store.WriteAsync(records, Ct);
        }

        await ExecuteAsync(PostgreSqlUndoVersion10(schema));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND column_name = 'khash'"));
        await using (var upgraded = NewPgStore(schema))
        {
            await upgraded.InitializeAsync();
            Assert.Equal(10L, await ScalarAsync($"SELECT max(version) FROM \"{schema}\".tm_schema_version"));
            Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM \"{schema}\".tm_usage_rollup WHERE khash IS DISTINCT FROM hashtextextended(dkey, dnull)"));
            Assert.True(await ScalarAsync($"SELECT count(*) FROM \"{schema}\".tm_usage_rollup WHERE dim = 4 AND grain = {TimeSpan.TicksPerDay}") > 20);
            await upgraded.WriteAsync(records.Select(r => r with { Id = Guid.CreateVersion7(), Timestamp = r.Timestamp.AddMinutes(7) }).ToList(), Ct);
            await AssertTopKeysEqualScanAsync(upgraded, 17);
            await upgraded.FoldAsync();
            await AssertTopKeysEqualScanAsync(upgraded, 17);
        }
    }

    /// <summary>A store whose key hash maps "ua" and "ub" to one value (any other key to PostgreSQL's own hash).</summary>
    private async Task<(PostgreSqlTokenUsageStore Store, string Function)> NewCollidingStoreAsync(string schema)
    {
        var function = "public.h_" + schema;
        await ExecuteAsync($"CREATE FUNCTION {function}(text, bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT CASE WHEN $1 IN ('ua', 'ub') THEN 42 ELSE hashtextextended($1, $2) END $$");
        var store = NewPgStore(schema);
        store.KeyHashFunction = function;
        await store.InitializeAsync();
        return (store, function);
    }

    /// <summary>Every top N (every sort, limits 1 to <paramref name="keys"/> + 1) of users and models over the long ranges: the rollup's
    /// answer equals the scan's.</summary>
    private async Task AssertTopKeysEqualScanAsync(PostgreSqlTokenUsageStore store, int keys)
    {
        foreach (var dimension in new[] { TokenUsageDimensions.User, TokenUsageDimensions.Model })
        {
            foreach (var sort in new[] { TokenUsageAggregateSort.Cost, TokenUsageAggregateSort.Tokens, TokenUsageAggregateSort.Calls })
            {
                for (var limit = 1; limit <= keys + 1; limit++)
                {
                    foreach (var (from, to) in LongRanges)
                    {
                        var query = new TokenUsageAggregateQuery { From = from, To = to, GroupBy = dimension, SortBy = sort, Limit = limit };
                        store.UseRollup = true;
                        var viaRollup = DescribeTop(await store.AggregateAsync(query, Ct));
                        store.UseRollup = false;
                        var viaScan = DescribeTop(await store.AggregateAsync(query, Ct));
                        Assert.True(viaScan.SequenceEqual(viaRollup), $"{query}: scan\n{string.Join('\n', viaScan)}\nrollup\n{string.Join('\n', viaRollup)}");
                    }
                }
            }
        }
    }

    // In the answer's order: the order is what is tested.
    private static List<string> DescribeTop(IReadOnlyList<TokenUsageAggregate> rows) =>
        rows.Select(r => $"{string.Join(',', r.Keys.Select(k => k.Key + "=" + (k.Value ?? "<null>")))}|{r.Calls}|{r.TotalTokens}|"
            + string.Join(',', r.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value.ToString(CultureInfo.InvariantCulture)))).ToList();
}

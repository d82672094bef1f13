namespace TokenMetrics.Storage.Tests;

/// <summary>The dashboard's part of the contract (issue 14): sort orders, session paging, estimated tokens, and the rollup
/// answering exactly what a scan of the records answers.</summary>
public abstract partial class StoreContractTests
{
    /// <summary>Switches a store's rollup reads on or off (off: every query scans the records; the rollup is still kept).</summary>
    protected abstract void UseRollup(ITokenUsageStore store, bool use);

    /// <summary>Folds the records past the rollup's watermark into it now.</summary>
    protected abstract ValueTask FoldAsync(ITokenUsageStore store);

    private static TokenUsageRecord Priced(TokenUsageRecord r, decimal? cost, string? currency) => r with { Cost = cost, Currency = currency };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AggregateAsync_SortBy_ExactOrdersTiesBrokenByKey(bool rollup)
    {
        var store = await NewStoreAsync();
        UseRollup(store, rollup);
        await store.WriteAsync(
        [
            Priced(Rec(model: "a", input: 10, output: 0), 0.25m, "USD"),
            Priced(Rec(model: "a", input: 10, output: 0), 0.25m, "USD"),
            Rec(model: "a", input: 10, output: 0),
            Priced(Rec(model: "b", input: 100, output: 0), 0.2m, "EUR"),
            Rec(model: "c", input: 25, output: 0),
            Rec(model: "c", input: 25, output: 0, source: TokenUsageSource.Estimated),
            Priced(Rec(model: "d", input: 25, output: 0), 0.1m, "USD"),
            Priced(Rec(model: "d", input: 25, output: 0), 0.1m, null),
            Rec(T0.AddHours(-2), model: "e", input: 1, output: 0),
        ], Ct);

        async Task<List<string>> Order(TokenUsageAggregateSort sort, int limit = 100, TokenUsageTimeBucket bucket = TokenUsageTimeBucket.None) =>
            (await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, SortBy = sort, Limit = limit, Bucket = bucket }, Ct))
                .Select(g => g.Keys["model"] + (g.BucketStart is { } b ? "@" + (b - T0).TotalHours : string.Empty)).ToList();

        Assert.Equal(["b", "c", "d", "a", "e"], await Order(TokenUsageAggregateSort.Tokens));   // 100, 50, 50 (c < d), 30, 1
        Assert.Equal(["a", "b", "d", "c", "e"], await Order(TokenUsageAggregateSort.Cost));     // 0.5 USD; 0.2 EUR = 0.2 (USD + none): more tokens first; then unpriced by tokens
        Assert.Equal(["a", "c", "d", "b", "e"], await Order(TokenUsageAggregateSort.Calls));    // 3; 2 and 2 (tokens tie: c < d); 1; 1 with fewer tokens
        Assert.Equal(["a", "b"], await Order(TokenUsageAggregateSort.Cost, limit: 2));
        Assert.Equal(["e@-2", "b@0", "c@0", "d@0", "a@0"], await Order(TokenUsageAggregateSort.Time, bucket: TokenUsageTimeBucket.Hour));
        Assert.Equal(["b", "c", "d", "a", "e"], await Order(TokenUsageAggregateSort.Time)); // no bucket: largest total first

        var d = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, SortBy = TokenUsageAggregateSort.Cost, Limit = 3 }, Ct), g => g.Keys["model"] == "d");
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.1m, [string.Empty] = 0.1m }, d.Costs);

        var all = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { From = T0, To = T0.AddHours(1) }, Ct));
        Assert.Equal(8, all.Calls);
        Assert.Equal(1, all.EstimatedCalls);
        Assert.Equal(25, all.EstimatedTokens);
        Assert.Equal(3, all.UnpricedCalls); // a once, c twice (e is outside the range)
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetSessionsAsync_SortByAndOffset_ExactPagesWithMixedCurrenciesAndUnpricedCalls(bool rollup)
    {
        var store = await NewStoreAsync();
        UseRollup(store, rollup);
        await store.WriteAsync(
        [
            Priced(Rec(T0, model: "gpt-4o", input: 10, output: 0, session: "s1"), 1.0m, "USD"),
            Priced(Rec(T0.AddMinutes(10), model: "claude", input: 10, output: 0, session: "s1"), 0.5m, "EUR"),
            Rec(T0.AddMinutes(5), input: 500, output: 0, session: "s2"),
            Priced(Rec(T0.AddMinutes(15), input: 20, output: 0, session: "s3"), 0.25m, "USD"),
            Rec(T0.AddMinutes(20), input: 20, output: 0, session: "s3"),
            Priced(Rec(T0.AddMinutes(20), input: 5, output: 0, session: "s4"), 1.5m, "EUR"),
            Rec(T0.AddMinutes(1), input: 400, output: 100, session: "s5", source: TokenUsageSource.Estimated),
            Rec(T0.AddMinutes(30), input: 9999, output: 0), // no session: never listed
            Rec(T0.AddHours(-3), input: 1, output: 0, session: "s6"), // before the range
        ], Ct);

        async Task<List<string>> Page(TokenUsageSessionSort sort, int offset = 0, int limit = 100) =>
            (await store.GetSessionsAsync(new TokenUsageSessionQuery { From = T0, To = T0.AddHours(1), SortBy = sort, Offset = offset, Limit = limit }, Ct))
                .Select(s => s.SessionId).ToList();

        Assert.Equal(["s3", "s4", "s1", "s2", "s5"], await Page(TokenUsageSessionSort.Updated)); // s3 and s4 both at +20 min: by id
        Assert.Equal(["s4", "s1", "s3", "s2", "s5"], await Page(TokenUsageSessionSort.Cost));    // 1.5 EUR = 1.0 USD + 0.5 EUR: newer first; 0.25; unpriced newest first
        Assert.Equal(["s2", "s5", "s3", "s1", "s4"], await Page(TokenUsageSessionSort.Tokens));  // 500 and 500: newer first
        Assert.Equal(["s4", "s1"], await Page(TokenUsageSessionSort.Cost, 0, 2));
        Assert.Equal(["s3", "s2"], await Page(TokenUsageSessionSort.Cost, 2, 2));
        Assert.Equal(["s5"], await Page(TokenUsageSessionSort.Cost, 4, 2));
        Assert.Empty(await Page(TokenUsageSessionSort.Cost, 5, 2));
        Assert.Empty(await Page(TokenUsageSessionSort.Updated, 1000));
        Assert.Equal(["s3", "s4", "s1", "s2", "s5", "s6"], (await store.GetSessionsAsync(new TokenUsageSessionQuery(), Ct)).Select(s => s.SessionId));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetSessionsAsync(new TokenUsageSessionQuery { Offset = -1 }, Ct));

        var sessions = (await store.GetSessionsAsync(new TokenUsageSessionQuery { From = T0, To = T0.AddHours(1), SortBy = TokenUsageSessionSort.Cost }, Ct)).ToDictionary(s => s.SessionId);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 1.0m, ["EUR"] = 0.5m }, sessions["s1"].Totals.Costs);
        Assert.Equal(["gpt-4o", "claude"], sessions["s1"].Models);
        Assert.Equal("claude", sessions["s1"].LastModel);
        Assert.Equal(T0.AddMinutes(10), sessions["s1"].UpdatedAt);
        Assert.Equal(1, sessions["s3"].Totals.UnpricedCalls);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.25m }, sessions["s3"].Totals.Costs);
        Assert.Empty(sessions["s2"].Totals.Costs);
        Assert.Equal(500, sessions["s5"].Totals.EstimatedTokens);
        Assert.Equal(1, sessions["s5"].Totals.EstimatedCalls);
        Assert.Equal(0, sessions["s2"].Totals.EstimatedTokens);

        // The range cuts a session: only its records inside count.
        var cut = Assert.Single(await store.GetSessionsAsync(new TokenUsageSessionQuery { From = T0.AddMinutes(5), To = T0.AddHours(1), SessionId = "s1" }, Ct));
        Assert.Equal(1, cut.Totals.Calls);
        Assert.Equal(new Dictionary<string, decimal> { ["EUR"] = 0.5m }, cut.Totals.Costs);
    }

    [Fact]
    public async Task Rollup_EqualsScan_ForEveryGroupingSortRangeAndPage_AfterReplaysAndRetention()
    {
        var store = await NewStoreAsync();
        var day0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(1234);
        string? Pick(string prefix, int n) => random.Next(n + 1) == 0 ? null : prefix + random.Next(n);
        var records = Enumerable.Range(0, 2500).Select(i =>
        {
            var cost = random.Next(4) switch { 0 => (decimal?)null, _ => random.Next(1, 5000) / 10_000m };
            return new TokenUsageRecord
            {
                Timestamp = day0.AddMinutes(random.Next(0, 5 * 24 * 60)).AddSeconds(random.Next(60)).ToOffset(TimeSpan.FromHours(random.Next(-12, 13))),
                Provider = Pick("p", 2),
                RequestModel = Pick("m", 5),
                ResponseModel = i % 7 == 0 ? "r" + (i % 3) : null,
                UserId = Pick("u", 12),
                Consumer = Pick("c", 4),
                SessionId = Pick("s", 80),
                Feature = Pick("f", 3),
                Status = (TokenUsageStatus)random.Next(4),
                Source = (TokenUsageSource)random.Next(3),
                Duration = TimeSpan.FromMilliseconds(random.Next(5000)),
                Usage = i % 9 == 0 ? TokenUsage.Empty : new TokenUsage
                {
                    InputTokenCount = random.Next(2000), OutputTokenCount = random.Next(300), TotalTokenCount = i % 3 == 0 ? random.Next(3000) : null,
                    CachedInputTokenCount = random.Next(3), CacheWriteInputTokenCount = random.Next(2), ReasoningTokenCount = i % 4 == 0 ? null : random.Next(50),
                },
                Cost = cost,
                Currency = cost is null ? null : random.Next(5) switch { 0 => null, 1 => "EUR", _ => "USD" },
            };
        }).ToList();

        // Most records are folded into the rollup by the retention below; the last ones (after the cut) are written after it and
        // stay past the watermark, in the same hours, days and sessions: queries add them to the folded rows.
        var cutoff = day0.AddDays(1).AddHours(5).AddMinutes(17);
        var late = records.Skip(2000).Where(r => r.Timestamp >= cutoff).ToList();
        foreach (var chunk in records.Except(late).Chunk(400))
        {
            await store.WriteAsync(chunk, Ct);
        }

        await store.WriteAsync(records.Take(700).ToList(), Ct); // a replay adds nothing
        Assert.True(await store.DeleteOlderThanAsync(cutoff, Ct) > 0); // cuts an hour and a day
        foreach (var chunk in late.Chunk(200))
        {
            await store.WriteAsync(chunk, Ct);
        }

        Assert.Equal(0, await store.WriteAsync(records.Skip(1000).Take(700).Where(r => r.Timestamp >= cutoff).ToList(), Ct)); // a replay of folded and unfolded records
        Assert.True(late.Count > 100, $"only {late.Count} records past the watermark");
        await CompareRollupWithScanAsync(store, records, day0, cutoff);
        await FoldAsync(store); // and the same once they are folded
        await CompareRollupWithScanAsync(store, records, day0, cutoff);
    }

    private async Task CompareRollupWithScanAsync(ITokenUsageStore store, List<TokenUsageRecord> records, DateTimeOffset day0, DateTimeOffset cutoff)
    {

        var ranges = new (DateTimeOffset? From, DateTimeOffset? To)[]
        {
            (null, null), (day0.AddDays(1).AddHours(6), day0.AddDays(4).AddHours(3)), (day0.AddDays(2), day0.AddDays(3)),
            (day0.AddDays(3).AddHours(7), day0.AddDays(3).AddHours(9)), (null, day0.AddDays(2).AddHours(13)), (day0.AddHours(30), null),
        };
        var dimensions = new[]
        {
            TokenUsageDimensions.None, TokenUsageDimensions.Provider, TokenUsageDimensions.Model, TokenUsageDimensions.User,
            TokenUsageDimensions.Consumer, TokenUsageDimensions.Session, TokenUsageDimensions.Status, TokenUsageDimensions.Feature,
        };
        var compared = 0;
        foreach (var (from, to) in ranges)
        {
            var queries = new List<TokenUsageAggregateQuery>();
            foreach (var dimension in dimensions)
            {
                foreach (var bucket in new[] { TokenUsageTimeBucket.None, TokenUsageTimeBucket.Hour, TokenUsageTimeBucket.Day })
                {
                    foreach (var sort in new[] { TokenUsageAggregateSort.Tokens, TokenUsageAggregateSort.Cost, TokenUsageAggregateSort.Calls, TokenUsageAggregateSort.Time })
                    {
                        queries.Add(new TokenUsageAggregateQuery { From = from, To = to, GroupBy = dimension, Bucket = bucket, SortBy = sort, Limit = sort == TokenUsageAggregateSort.Tokens ? 1000 : 7 });
                    }
                }
            }

            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, UserId = "u3" });
            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, UserId = "u3", GroupBy = TokenUsageDimensions.User, Bucket = TokenUsageTimeBucket.Hour });
            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, Status = TokenUsageStatus.Error, GroupBy = TokenUsageDimensions.Status });
            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, Consumer = "c1", Bucket = TokenUsageTimeBucket.Day, SortBy = TokenUsageAggregateSort.Time });
            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, Feature = "f0", GroupBy = TokenUsageDimensions.Feature, SortBy = TokenUsageAggregateSort.Cost });
            queries.Add(new TokenUsageAggregateQuery { From = from, To = to, Provider = "p1", SortBy = TokenUsageAggregateSort.Calls });

            foreach (var query in queries)
            {
                UseRollup(store, true);
                var viaRollup = Describe(await store.AggregateAsync(query, Ct));
                UseRollup(store, false);
                var viaScan = Describe(await store.AggregateAsync(query, Ct));
                Assert.True(viaScan.SequenceEqual(viaRollup), $"{query}: scan\n{string.Join('\n', viaScan)}\nrollup\n{string.Join('\n', viaRollup)}");
                compared += viaScan.Count;
            }

            foreach (var sort in new[] { TokenUsageSessionSort.Updated, TokenUsageSessionSort.Cost, TokenUsageSessionSort.Tokens })
            {
                foreach (var (offset, limit) in new[] { (0, 7), (7, 7), (3, 1000), (60, 20), (500, 5) })
                {
                    var query = new TokenUsageSessionQuery { From = from, To = to, SortBy = sort, Offset = offset, Limit = limit };
                    UseRollup(store, true);
                    var viaRollup = Describe(await store.GetSessionsAsync(query, Ct));
                    UseRollup(store, false);
                    var viaScan = Describe(await store.GetSessionsAsync(query, Ct));
                    Assert.True(viaScan.SequenceEqual(viaRollup), $"{query}: scan\n{string.Join('\n', viaScan)}\nrollup\n{string.Join('\n', viaRollup)}");
                    compared += viaScan.Count;
                }
            }
        }

        Assert.True(compared > 10_000, $"only {compared} rows compared");

        // And against the records themselves: the grand total over everything left.
        UseRollup(store, true);
        var kept = records.Where(r => r.Timestamp >= cutoff).ToList();
        var total = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
        Assert.Equal(kept.Count, total.Calls);
        Assert.Equal(kept.Sum(r => r.Usage.TotalTokenCount ?? (r.Usage.InputTokenCount ?? 0) + (r.Usage.OutputTokenCount ?? 0)), total.TotalTokens);
        Assert.Equal(kept.Where(r => r.Source == TokenUsageSource.Estimated).Sum(r => r.Usage.TotalTokenCount ?? (r.Usage.InputTokenCount ?? 0) + (r.Usage.OutputTokenCount ?? 0)), total.EstimatedTokens);
        Assert.Equal(kept.Where(r => r.Cost is not null).GroupBy(r => r.Currency ?? string.Empty).ToDictionary(g => g.Key, g => g.Sum(r => r.Cost!.Value)), total.Costs.ToDictionary());
    }

    [Fact]
    public async Task TopKeys_TiesAtEveryPageBoundary_RollupEqualsScan()
    {
        // A top N is ranked on its order's sums first and summed in full for those keys after: ties in cost, tokens and calls
        // (pairs of users with the same records, and records without a user) must cut the page where the scan cuts it. Ranges: all
        // time and a week or more with partial days at both ends (PostgreSQL ranks first there, reading the keys' day rows by key),
        // and shorter ones (PostgreSQL sums in one pass).
        var store = await NewStoreAsync();
        var records = new List<TokenUsageRecord>();
        for (var u = 0; u < 14; u++)
        {
            for (var r = 0; r < 1 + (u / 2 % 3); r++)
            {
                var cost = u / 2 % 2 == 0 ? 0.25m : 0.5m;
                records.Add(Rec(T0.AddHours(r * 20).AddMinutes(u), input: 100 * (1 + (u / 4)), output: 10, user: u == 13 ? null : "u" + u) with { Cost = cost, Currency = "USD" });
            }
        }

        await store.WriteAsync(records.Take(20).ToList(), Ct);
        await FoldAsync(store);
        await store.WriteAsync(records.Skip(20).ToList(), Ct); // some past the watermark
        foreach (var sort in new[] { TokenUsageAggregateSort.Cost, TokenUsageAggregateSort.Tokens, TokenUsageAggregateSort.Calls })
        {
            for (var limit = 1; limit <= 15; limit++)
            {
                foreach (var (from, to) in new (DateTimeOffset?, DateTimeOffset?)[] { (null, null), (T0.AddHours(-5), T0.AddDays(3)), (T0, T0.AddHours(30)), (T0.AddHours(-5), T0.AddDays(9).AddHours(2)) })
                {
                    var query = new TokenUsageAggregateQuery { From = from, To = to, GroupBy = TokenUsageDimensions.User, SortBy = sort, Limit = limit };
                    UseRollup(store, true);
                    var viaRollup = Describe(await store.AggregateAsync(query, Ct));
                    UseRollup(store, false);
                    var viaScan = Describe(await store.AggregateAsync(query, Ct));
                    Assert.Equal(viaScan, viaRollup);
                    Assert.Equal(Math.Min(limit, 14), viaScan.Count);
                }
            }
        }
    }

    [Fact]
    public async Task SessionRanking_RollupEqualsScan_SessionsInsideAndAcrossRangeEdges_AfterRetention()
    {
        // Short sessions (a few rounds over up to 3 hours) and long ones (over up to 3 days) at random times: every range has
        // sessions wholly inside it (ranked from the per-session summary) and sessions crossing its edges, started less or more
        // than a day before them (summed from the rollup), with ties in cost.
        var store = await NewStoreAsync();
        var day0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(4321);
        var records = new List<TokenUsageRecord>();
        for (var s = 0; s < 320; s++)
        {
            // The last 20 are long (rounds over up to three days): they cross edges more than a day after they start.
            var start = day0.AddMinutes(random.Next(0, 4 * 24 * 60));
            var rounds = s < 300 ? random.Next(1, 6) : random.Next(3, 8);
            var span = s < 300 ? 180 : 3 * 24 * 60;
            for (var r = 0; r < rounds; r++)
            {
                var cost = random.Next(5) == 0 ? (decimal?)null : random.Next(1, 40) / 100m;
                records.Add(new TokenUsageRecord
                {
                    Timestamp = start.AddMinutes(random.Next(0, span)),
                    RequestModel = "m" + random.Next(3),
                    SessionId = "s" + s,
                    Usage = new TokenUsage { InputTokenCount = random.Next(1, 50) * 10, OutputTokenCount = random.Next(1, 5) * 10 },
                    Cost = cost,
                    Currency = cost is null ? null : random.Next(4) == 0 ? "EUR" : "USD",
                });
            }
        }

        // The last sessions' records after the cut are written after the retention (which folds): past the watermark, some in
        // sessions that also have folded records.
        var cutoff = day0.AddHours(20).AddMinutes(11);
        var late = records.Skip(records.Count * 3 / 4).Where(r => r.Timestamp >= cutoff).ToList();
        foreach (var chunk in records.Except(late).Chunk(250))
        {
            await store.WriteAsync(chunk, Ct);
        }

        await store.WriteAsync(records.Take(300).ToList(), Ct); // a replay adds nothing
        Assert.True(await store.DeleteOlderThanAsync(cutoff, Ct) > 0); // cuts sessions in two
        foreach (var chunk in late.Chunk(100))
        {
            await store.WriteAsync(chunk, Ct);
        }

        Assert.True(late.Count > 50, $"only {late.Count} records past the watermark");
        await CompareSessionsWithScanAsync(store, records, day0, cutoff);
        await FoldAsync(store); // and the same once they are folded
        await CompareSessionsWithScanAsync(store, records, day0, cutoff);
    }

    private async Task CompareSessionsWithScanAsync(ITokenUsageStore store, List<TokenUsageRecord> records, DateTimeOffset day0, DateTimeOffset cutoff)
    {
        var ranges = new (DateTimeOffset? From, DateTimeOffset? To)[]
        {
            (null, null), (day0.AddDays(1), day0.AddDays(2)), (day0.AddHours(20), day0.AddHours(30)), (null, day0.AddDays(2).AddHours(5)),
            (day0.AddDays(3).AddHours(1), null), (day0.AddDays(1).AddHours(3), day0.AddDays(1).AddHours(4)),
        };
        var compared = 0;
        foreach (var (from, to) in ranges)
        {
            foreach (var sort in new[] { TokenUsageSessionSort.Updated, TokenUsageSessionSort.Cost, TokenUsageSessionSort.Tokens })
            {
                foreach (var (offset, limit) in new[] { (0, 10), (10, 25), (0, 1000) })
                {
                    var query = new TokenUsageSessionQuery { From = from, To = to, SortBy = sort, Offset = offset, Limit = limit };
                    UseRollup(store, true);
                    var viaRollup = Describe(await store.GetSessionsAsync(query, Ct));
                    UseRollup(store, false);
                    var viaScan = Describe(await store.GetSessionsAsync(query, Ct));
                    Assert.True(viaScan.SequenceEqual(viaRollup), $"{query}: scan\n{string.Join('\n', viaScan)}\nrollup\n{string.Join('\n', viaRollup)}");
                    compared += viaScan.Count;
                }
            }
        }

        Assert.True(compared > 1_000, $"only {compared} sessions compared");

        // Against the records: every session left, by tokens.
        UseRollup(store, true);
        var kept = records.Where(r => r.Timestamp >= cutoff).GroupBy(r => r.SessionId!).ToDictionary(g => g.Key, g => g.Sum(r => r.Usage.InputTokenCount!.Value + r.Usage.OutputTokenCount!.Value));
        var all = await store.GetSessionsAsync(new TokenUsageSessionQuery { SortBy = TokenUsageSessionSort.Tokens, Limit = 1000 }, Ct);
        Assert.Equal(kept.Count, all.Count);
        Assert.All(all, s => Assert.Equal(kept[s.SessionId], s.Totals.TotalTokens));
    }

    private static List<string> Describe(IReadOnlyList<TokenUsageAggregate> rows) =>
        rows.Select(r => $"{string.Join(',', r.Keys.OrderBy(k => k.Key).Select(k => k.Key + "=" + (k.Value ?? "<null>")))}|{r.BucketStart:O}|{Sums(r)}").ToList();

    private static List<string> Describe(IReadOnlyList<TokenUsageSession> sessions) =>
        sessions.Select(s => $"{s.SessionId}|{s.CreatedAt:O}|{s.UpdatedAt:O}|{s.LastModel}|{string.Join(',', s.Models)}|{Sums(s.Totals)}").ToList();

    private static string Sums(TokenUsageAggregate r) =>
        $"{r.Calls}|{r.InputTokens}|{r.OutputTokens}|{r.TotalTokens}|{r.CachedInputTokens}|{r.CacheWriteInputTokens}|{r.ReasoningTokens}|{r.EstimatedCalls}|{r.EstimatedTokens}|{r.MissingCalls}|{r.FailedCalls}|{r.TotalDuration}|{r.UnpricedCalls}|"
        + string.Join(',', r.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}

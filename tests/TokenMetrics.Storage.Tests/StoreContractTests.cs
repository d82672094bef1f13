using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace TokenMetrics.Storage.Tests;

/// <summary>The <see cref="ITokenUsageStore"/> contract, run against every store.</summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);

    private readonly List<IAsyncDisposable> _stores = [];

    protected CancellationToken Ct => TestContext.Ct;

    /// <summary>Creates a store over a fresh, empty database (or schema).</summary>
    protected abstract Task<ITokenUsageStore> CreateStoreAsync(TimeSpan? retention = null, TimeProvider? timeProvider = null);

    protected async Task<ITokenUsageStore> NewStoreAsync(TimeSpan? retention = null, TimeProvider? timeProvider = null)
    {
        var store = await CreateStoreAsync(retention, timeProvider);
        _stores.Add((IAsyncDisposable)store);
        return store;
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    protected internal static TokenUsageRecord Rec(
        DateTimeOffset? at = null, string? model = "gpt-4o", long? input = 10, long? output = 5, string? user = null, string? session = null,
        string? consumer = null, string provider = "openai", TokenUsageStatus status = TokenUsageStatus.Ok, TokenUsageSource source = TokenUsageSource.Reported,
        IReadOnlyDictionary<string, string>? tags = null, Guid? id = null) => new()
        {
            Id = id ?? Guid.CreateVersion7(),
            Timestamp = at ?? T0,
            Provider = provider,
            Operation = "chat",
            RequestModel = model,
            Status = status,
            Source = source,
            Usage = input is null && output is null ? TokenUsage.Empty : new TokenUsage { InputTokenCount = input, OutputTokenCount = output },
            UserId = user,
            SessionId = session,
            Consumer = consumer,
            Tags = tags,
            Duration = TimeSpan.FromMilliseconds(100),
        };

    protected internal static TokenUsageRecord FullRecord(string s = "x") => new()
    {
        Id = Guid.CreateVersion7(),
        Timestamp = new DateTimeOffset(2026, 3, 14, 17, 30, 15, TimeSpan.FromMinutes(330)).AddTicks(1_234_567),
        Provider = "openai" + s,
        Operation = "chat" + s,
        RequestModel = "gpt-4o" + s,
        RoutedModel = "gpt-4o-mini" + s,
        ResponseModel = "gpt-4o-mini-2024-07-18" + s,
        ResponseId = "chatcmpl-123" + s,
        IsStreaming = true,
        Status = TokenUsageStatus.Truncated,
        ErrorType = "System.IO.IOException" + s,
        HttpStatusCode = 200,
        Duration = TimeSpan.FromTicks(12_345_678),
        TimeToFirstChunk = TimeSpan.FromTicks(1_234_567),
        Endpoint = "https://api.openai.com:443/v1/chat/completions" + s,
        ServerAddress = "api.openai.com" + s,
        ServerPort = 443,
        Usage = new TokenUsage
        {
            InputTokenCount = 1200,
            OutputTokenCount = 300,
            TotalTokenCount = 1501,
            CachedInputTokenCount = 800,
            CacheWriteInputTokenCount = 100,
            ReasoningTokenCount = 25,
            InputTokenDetails = new Dictionary<string, long> { ["cached_tokens"] = 800, ["audio_tokens" + s] = 3 },
            OutputTokenDetails = new Dictionary<string, long> { ["reasoning_tokens"] = 25, ["accepted_prediction_tokens"] = 0 },
        },
        Source = TokenUsageSource.Estimated,
        EstimationMethod = "o200k_base" + s,
        UserId = "alice" + s,
        Consumer = "team-docs" + s,
        SessionId = "agent:main:discord:1465367993012981988" + s,
        Tags = new Dictionary<string, string> { ["feature"] = "search" + s, ["env" + s] = "prod", ["empty"] = string.Empty },
        ClientName = "assistant" + s,
        Layer = TokenUsageLayer.ChatClient,
        OperationId = Guid.CreateVersion7(),
        RoundIndex = 3,
        Cost = 0.0001851m,
        Currency = "USD",
        PricedModel = "gpt-4o-mini" + s,
        Feature = "summarize" + s,
        Content = new TokenUsageContent
        {
            Question = "What is 2+2?" + s,
            Answer = "4" + s,
            Reasoning = "add them" + s,
            ToolCalls =
            [
                new TokenUsageToolCall { Index = 0, Id = "call_1" + s, Type = "function", Name = "add" + s, Arguments = "{\"a\":2,\"b\":\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"}" },
                new TokenUsageToolCall { Index = 1, Name = "noop" },
            ],
        },
    };

    /// <summary>Canonical JSON with dictionaries in ordinal key order (stores need not keep dictionary order).</summary>
    protected static string Canonical(TokenUsageRecord r)
    {
        static SortedDictionary<string, T>? Sort<T>(IReadOnlyDictionary<string, T>? d) => d is null ? null : new(d.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
        var normalized = r with
        {
            Tags = Sort(r.Tags),
            Usage = new TokenUsage
            {
                InputTokenCount = r.Usage.InputTokenCount,
                OutputTokenCount = r.Usage.OutputTokenCount,
                TotalTokenCount = r.Usage.TotalTokenCount,
                CachedInputTokenCount = r.Usage.CachedInputTokenCount,
                CacheWriteInputTokenCount = r.Usage.CacheWriteInputTokenCount,
                ReasoningTokenCount = r.Usage.ReasoningTokenCount,
                InputTokenDetails = Sort(r.Usage.InputTokenDetails),
                OutputTokenDetails = Sort(r.Usage.OutputTokenDetails),
            },
        };
        return Encoding.UTF8.GetString(TokenUsageJson.Serialize(normalized));
    }

    protected static async Task<TokenUsageRecord> ReadBackAsync(ITokenUsageStore store, Guid id)
    {
        var page = await store.QueryAsync(new TokenUsageQuery { Limit = TokenUsageFilter.MaxLimit }, CancellationToken.None);
        return Assert.Single(page.Records, r => r.Id == id);
    }

    private static async Task<HashSet<Guid>> IdsAsync(ITokenUsageStore store, TokenUsageQuery query) =>
        (await store.QueryAsync(query with { Limit = TokenUsageFilter.MaxLimit }, CancellationToken.None)).Records.Select(r => r.Id).ToHashSet();

    [Fact]
    public async Task WriteAsync_SameIdsTwice_StoresOnce()
    {
        var store = await NewStoreAsync();
        var batch = Enumerable.Range(0, 10).Select(i => Rec(T0.AddSeconds(i))).ToList();

        Assert.Equal(10, await store.WriteAsync(batch, Ct));
        Assert.Equal(0, await store.WriteAsync(batch, Ct));

        var page = await store.QueryAsync(new TokenUsageQuery(), Ct);
        Assert.Equal(10, page.Total);
        Assert.Equal(10, page.Records.Count);
    }

    [Fact]
    public async Task WriteAsync_ReplayedOverlappingBatchAndDuplicatesInBatch_StoresEachIdOnce()
    {
        var store = await NewStoreAsync();
        var a = Rec(T0);
        var b = Rec(T0.AddSeconds(1));
        var c = Rec(T0.AddSeconds(2));
        Assert.Equal(2, await store.WriteAsync([a, b], Ct));

        // A replay from the spool overlapping the committed batch, with an id repeated inside the batch.
        Assert.Equal(1, await store.WriteAsync([b, c, c with { Usage = new TokenUsage { InputTokenCount = 999 } }], Ct));

        var page = await store.QueryAsync(new TokenUsageQuery(), Ct);
        Assert.Equal(3, page.Total);
        Assert.Equal(10, page.Records.Single(r => r.Id == c.Id).Usage.InputTokenCount);
        var totals = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
        Assert.Equal(3, totals.Calls);
        Assert.Equal(30, totals.InputTokens);
    }

    [Fact]
    public async Task WriteAsync_Empty_ReturnsZero()
    {
        var store = await NewStoreAsync();
        Assert.Equal(0, await store.WriteAsync([], Ct));
        Assert.Empty(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
    }

    [Fact]
    public async Task WriteAsync_Null_Throws()
    {
        var store = await NewStoreAsync();
        await Assert.ThrowsAsync<ArgumentNullException>("records", async () => await store.WriteAsync(null!, Ct));
    }

    [Fact]
    public async Task RoundTrip_EveryField_JsonIdentical()
    {
        var store = await NewStoreAsync();
        var full = FullRecord();
        var minimal = new TokenUsageRecord { Id = Guid.CreateVersion7(), Timestamp = T0 };
        var emptyCollections = Rec() with { Tags = new Dictionary<string, string>(), Usage = new TokenUsage { InputTokenDetails = new Dictionary<string, long>() } };
        await store.WriteAsync([full, minimal, emptyCollections], Ct);

        foreach (var original in new[] { full, minimal, emptyCollections })
        {
            var stored = await ReadBackAsync(store, original.Id);
            Assert.Equal(Canonical(original), Canonical(stored));
            Assert.Equal(original.Timestamp, stored.Timestamp);
            Assert.Equal(original.Timestamp.Offset, stored.Timestamp.Offset);
            var reparsed = TokenUsageJson.Deserialize(TokenUsageJson.Serialize(stored))!;
            Assert.Equal(Canonical(original), Canonical(reparsed));
        }
    }

    [Fact]
    public async Task QueryAsync_EveryFilter_MatchesExactlyTheRightRecords()
    {
        var store = await NewStoreAsync();
        var early = Rec(T0.AddHours(-2), user: "u1", session: "s1", consumer: "c1", tags: new Dictionary<string, string> { ["team"] = "a", ["env"] = "prod" });
        var mid = Rec(T0, model: "claude", provider: "anthropic", user: "u2", session: "s2", consumer: "c2", status: TokenUsageStatus.Error, source: TokenUsageSource.Missing, input: null, output: null,
            tags: new Dictionary<string, string> { ["team"] = "a", ["env"] = "dev" });
        var late = Rec(T0.AddHours(2), user: "u1", session: "s1", source: TokenUsageSource.Estimated, tags: new Dictionary<string, string> { ["team"] = "b" }) with
        {
            RequestModel = "auto",
            RoutedModel = "gpt-4o-mini",
            ResponseModel = "gpt-4o-mini-2024-07-18",
        };
        await store.WriteAsync([early, mid, late], Ct);

        Assert.Equal([early.Id, mid.Id], await IdsAsync(store, new TokenUsageQuery { To = T0.AddHours(2) }));
        Assert.Equal([mid.Id, late.Id], await IdsAsync(store, new TokenUsageQuery { From = T0 }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { From = T0, To = T0.AddTicks(1) }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { From = T0.ToOffset(TimeSpan.FromHours(-5)), To = T0.AddHours(1).ToOffset(TimeSpan.FromHours(9)) }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { Provider = "anthropic" }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { Model = "claude" }));
        Assert.Equal([late.Id], await IdsAsync(store, new TokenUsageQuery { Model = "auto" }));
        Assert.Equal([late.Id], await IdsAsync(store, new TokenUsageQuery { Model = "gpt-4o-mini" }));
        Assert.Equal([late.Id], await IdsAsync(store, new TokenUsageQuery { Model = "gpt-4o-mini-2024-07-18" }));
        Assert.Equal([early.Id], await IdsAsync(store, new TokenUsageQuery { Model = "gpt-4o" }));
        Assert.Equal([early.Id, late.Id], await IdsAsync(store, new TokenUsageQuery { UserId = "u1" }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { Consumer = "c2" }));
        Assert.Equal([early.Id, late.Id], await IdsAsync(store, new TokenUsageQuery { SessionId = "s1" }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { Status = TokenUsageStatus.Error }));
        Assert.Equal([early.Id, late.Id], await IdsAsync(store, new TokenUsageQuery { Status = TokenUsageStatus.Ok }));
        Assert.Equal([mid.Id], await IdsAsync(store, new TokenUsageQuery { Source = TokenUsageSource.Missing }));
        Assert.Equal([late.Id], await IdsAsync(store, new TokenUsageQuery { Source = TokenUsageSource.Estimated }));
        Assert.Equal([early.Id, mid.Id], await IdsAsync(store, new TokenUsageQuery { Tags = new Dictionary<string, string> { ["team"] = "a" } }));
        Assert.Equal([early.Id], await IdsAsync(store, new TokenUsageQuery { Tags = new Dictionary<string, string> { ["team"] = "a", ["env"] = "prod" } }));
        Assert.Empty(await IdsAsync(store, new TokenUsageQuery { Tags = new Dictionary<string, string> { ["team"] = "b", ["env"] = "prod" } }));
        Assert.Equal([early.Id], await IdsAsync(store, new TokenUsageQuery { UserId = "u1", To = T0 }));
        Assert.Empty(await IdsAsync(store, new TokenUsageQuery { UserId = "nobody" }));

        // The same filters apply to aggregates and sessions.
        Assert.Equal(2, Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { UserId = "u1" }, Ct)).Calls);
        Assert.Equal(["s1"], (await store.GetSessionsAsync(new TokenUsageSessionQuery { UserId = "u1" }, Ct)).Select(s => s.SessionId));
    }

    [Fact]
    public async Task QueryAsync_Paging_NewestFirstWithTotalAndCappedLimit()
    {
        var store = await NewStoreAsync();
        var records = Enumerable.Range(0, 25).Select(i => Rec(T0.AddMinutes(i))).ToList();
        await store.WriteAsync(records, Ct);
        var expected = records.OrderByDescending(r => r.Timestamp).Select(r => r.Id).ToList();

        var pages = new List<Guid>();
        for (var offset = 0; offset < 30; offset += 10)
        {
            var page = await store.QueryAsync(new TokenUsageQuery { Limit = 10, Offset = offset }, Ct);
            Assert.Equal(25, page.Total);
            pages.AddRange(page.Records.Select(r => r.Id));
        }

        Assert.Equal(expected, pages);
        Assert.Empty((await store.QueryAsync(new TokenUsageQuery { Limit = 10, Offset = 100 }, Ct)).Records);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.QueryAsync(new TokenUsageQuery { Limit = 0 }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.QueryAsync(new TokenUsageQuery { Offset = -1 }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.AggregateAsync(new TokenUsageAggregateQuery { Limit = 0 }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetSessionsAsync(new TokenUsageSessionQuery { Limit = -5 }, Ct));
    }

    [Fact]
    public async Task Limits_AboveMax_AreCappedAtMaxLimit()
    {
        var store = await NewStoreAsync();
        var n = TokenUsageFilter.MaxLimit + 7;
        await store.WriteAsync(Enumerable.Range(0, n).Select(i => Rec(T0.AddMilliseconds(i), user: "u" + i, session: "s" + i)).ToList(), Ct);

        var page = await store.QueryAsync(new TokenUsageQuery { Limit = int.MaxValue }, Ct);
        Assert.Equal(n, page.Total);
        Assert.Equal(TokenUsageFilter.MaxLimit, page.Records.Count);
        Assert.Equal(TokenUsageFilter.MaxLimit, (await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.User, Limit = int.MaxValue }, Ct)).Count);
        Assert.Equal(TokenUsageFilter.MaxLimit, (await store.GetSessionsAsync(new TokenUsageSessionQuery { Limit = int.MaxValue }, Ct)).Count);
        Assert.Equal(3, (await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.User, Limit = 3 }, Ct)).Count);
    }

    [Fact]
    public async Task AggregateAsync_EveryDimension_GroupsAndSums()
    {
        var store = await NewStoreAsync();
        var team = (string t) => new Dictionary<string, string> { ["team"] = t };
        await store.WriteAsync(
        [
            Rec(model: "gpt-4o", input: 100, output: 10, user: "u1", consumer: "c1", session: "s1", tags: team("a")),
            Rec(model: "gpt-4o", input: 200, output: 20, user: "u2", consumer: "c1", session: "s1", tags: team("b")) with { Usage = new TokenUsage { InputTokenCount = 200, OutputTokenCount = 20, TotalTokenCount = 230, CachedInputTokenCount = 50, CacheWriteInputTokenCount = 7, ReasoningTokenCount = 5 } },
            Rec(model: "claude", provider: "anthropic", input: 1000, output: 100, user: "u1", consumer: "c2", session: "s2", status: TokenUsageStatus.Error, source: TokenUsageSource.Estimated, tags: team("a")),
            Rec(model: null, input: null, output: null, provider: "anthropic", status: TokenUsageStatus.Cancelled, source: TokenUsageSource.Missing),
            Rec(model: "x", input: 1, output: 1) with { RequestModel = "auto", ResponseModel = "gpt-4o" },
        ], Ct);

        var all = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
        Assert.Empty(all.Keys);
        Assert.Null(all.BucketStart);
        Assert.Equal(5, all.Calls);
        Assert.Equal(1301, all.InputTokens);
        Assert.Equal(131, all.OutputTokens);
        Assert.Equal(110 + 230 + 1100 + 0 + 2, all.TotalTokens);
        Assert.Equal(50, all.CachedInputTokens);
        Assert.Equal(7, all.CacheWriteInputTokens);
        Assert.Equal(5, all.ReasoningTokens);
        Assert.Equal(1, all.EstimatedCalls);
        Assert.Equal(1, all.MissingCalls);
        Assert.Equal(2, all.FailedCalls);
        Assert.Equal(TimeSpan.FromMilliseconds(500), all.TotalDuration);

        async Task<Dictionary<string, long>> By(TokenUsageDimensions d, string key, string? tagKey = null)
        {
            var rows = await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = d, TagKey = tagKey }, Ct);
            Assert.Equal(rows.Select(r => r.TotalTokens).OrderByDescending(t => t), rows.Select(r => r.TotalTokens)); // largest first
            return rows.ToDictionary(r => r.Keys[key] ?? "<null>", r => r.TotalTokens);
        }

        Assert.Equal(new Dictionary<string, long> { ["openai"] = 342, ["anthropic"] = 1100 }, await By(TokenUsageDimensions.Provider, "provider"));
        Assert.Equal(new Dictionary<string, long> { ["gpt-4o"] = 342, ["claude"] = 1100, ["<null>"] = 0 }, await By(TokenUsageDimensions.Model, "model"));
        Assert.Equal(new Dictionary<string, long> { ["u1"] = 1210, ["u2"] = 230, ["<null>"] = 2 }, await By(TokenUsageDimensions.User, "user"));
        Assert.Equal(new Dictionary<string, long> { ["c1"] = 340, ["c2"] = 1100, ["<null>"] = 2 }, await By(TokenUsageDimensions.Consumer, "consumer"));
        Assert.Equal(new Dictionary<string, long> { ["s1"] = 340, ["s2"] = 1100, ["<null>"] = 2 }, await By(TokenUsageDimensions.Session, "session"));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1210, ["b"] = 230, ["<null>"] = 2 }, await By(TokenUsageDimensions.Tag, "tag", "team"));
        Assert.Equal(new Dictionary<string, long> { ["ok"] = 342, ["error"] = 1100, ["cancelled"] = 0 }, await By(TokenUsageDimensions.Status, "status"));

        var combined = await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model | TokenUsageDimensions.User }, Ct);
        Assert.Equal(5, combined.Count);
        var row = Assert.Single(combined, r => r.Keys["model"] == "gpt-4o" && r.Keys["user"] == "u2");
        Assert.Equal(2, row.Keys.Count);
        Assert.Equal(1, row.Calls);
        Assert.Equal(230, row.TotalTokens);

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Tag }, Ct));
    }

    [Fact]
    public async Task AggregateAsync_HourAndDayBuckets_AreUtcAcrossTheDayBoundary()
    {
        var store = await NewStoreAsync();
        var plus2 = TimeSpan.FromHours(2);

        // 23:10 and 23:50 UTC on the 14th, 00:20 UTC on the 15th; written with a +02:00 offset (local 01:10, 01:50, 02:20 on the 15th).
        var day14 = new DateTimeOffset(2026, 3, 14, 0, 0, 0, TimeSpan.Zero);
        await store.WriteAsync(
        [
            Rec(day14.AddHours(23).AddMinutes(10).ToOffset(plus2), input: 1, output: 0),
            Rec(day14.AddHours(23).AddMinutes(50).ToOffset(plus2), input: 2, output: 0),
            Rec(day14.AddDays(1).AddMinutes(20).ToOffset(plus2), input: 4, output: 0, model: "claude"),
        ], Ct);

        var days = await store.AggregateAsync(new TokenUsageAggregateQuery { Bucket = TokenUsageTimeBucket.Day }, Ct);
        Assert.Equal(
            new Dictionary<DateTimeOffset, long> { [day14] = 3, [day14.AddDays(1)] = 4 },
            days.ToDictionary(d => d.BucketStart!.Value, d => d.InputTokens));
        Assert.All(days, d => Assert.Equal(TimeSpan.Zero, d.BucketStart!.Value.Offset));

        var hours = await store.AggregateAsync(new TokenUsageAggregateQuery { Bucket = TokenUsageTimeBucket.Hour }, Ct);
        Assert.Equal(
            new Dictionary<DateTimeOffset, long> { [day14.AddHours(23)] = 3, [day14.AddDays(1)] = 4 },
            hours.ToDictionary(d => d.BucketStart!.Value, d => d.InputTokens));

        var byModelAndDay = await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day }, Ct);
        Assert.Equal(2, byModelAndDay.Count);
        Assert.Equal((day14, 2L), byModelAndDay.Where(r => r.Keys["model"] == "gpt-4o").Select(r => (r.BucketStart!.Value, r.Calls)).Single());
        Assert.Equal((day14.AddDays(1), 1L), byModelAndDay.Where(r => r.Keys["model"] == "claude").Select(r => (r.BucketStart!.Value, r.Calls)).Single());
    }

    [Fact]
    public async Task GetSessionsAsync_ListsSessionsWithTotalsModelsAndOrderedRounds()
    {
        var store = await NewStoreAsync();
        var r1 = Rec(T0, model: "gpt-4o", input: 100, output: 10, session: "conv-1");
        var r2 = Rec(T0.AddMinutes(1), model: "o1", input: 200, output: 20, session: "conv-1") with { Usage = new TokenUsage { InputTokenCount = 200, OutputTokenCount = 20, ReasoningTokenCount = 15, CachedInputTokenCount = 80 } };
        var r3 = Rec(T0.AddMinutes(2), model: "gpt-4o", input: 300, output: 30, session: "conv-1");
        var other = Rec(T0.AddMinutes(5), model: "claude", input: 1, output: 1, session: "conv-2");
        var older = Rec(T0.AddMinutes(-10), model: "claude", input: 1, output: 1, session: "conv-0");
        var none = Rec(T0.AddMinutes(30));

        // Written out of order: rounds are ordered by time, not by write order.
        await store.WriteAsync([r3, other, r1, none, older, r2], Ct);

        var sessions = await store.GetSessionsAsync(new TokenUsageSessionQuery(), Ct);
        Assert.Equal(["conv-2", "conv-1", "conv-0"], sessions.Select(s => s.SessionId));
        Assert.All(sessions, s => Assert.Null(s.Rounds));

        var conv1 = sessions[1];
        Assert.Equal(T0, conv1.CreatedAt);
        Assert.Equal(T0.AddMinutes(2), conv1.UpdatedAt);
        Assert.Equal("gpt-4o", conv1.LastModel);
        Assert.Equal(["gpt-4o", "o1"], conv1.Models);
        Assert.Equal(3, conv1.Totals.Calls);
        Assert.Equal(600, conv1.Totals.InputTokens);
        Assert.Equal(60, conv1.Totals.OutputTokens);
        Assert.Equal(660, conv1.Totals.TotalTokens);
        Assert.Equal(15, conv1.Totals.ReasoningTokens);
        Assert.Equal(80, conv1.Totals.CachedInputTokens);
        Assert.Equal("conv-1", conv1.Totals.Keys["session"]);

        var one = Assert.Single(await store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = "conv-1", IncludeRounds = true }, Ct));
        Assert.Equal([r1.Id, r2.Id, r3.Id], one.Rounds!.Select(r => r.Id));
        Assert.Equal(Canonical(r2), Canonical(one.Rounds![1]));

        var withRounds = await store.GetSessionsAsync(new TokenUsageSessionQuery { Limit = 2, IncludeRounds = true }, Ct);
        Assert.Equal(["conv-2", "conv-1"], withRounds.Select(s => s.SessionId));
        Assert.Equal([other.Id], withRounds[0].Rounds!.Select(r => r.Id));
        Assert.Equal(3, withRounds[1].Rounds!.Count);

        Assert.Empty(await store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = "missing" }, Ct));
    }

    [Fact]
    public async Task DeleteOlderThanAsync_DeletesOnlyOlderRecordsAndTheirTags()
    {
        var store = await NewStoreAsync();
        var tags = new Dictionary<string, string> { ["team"] = "a" };
        var old = Enumerable.Range(0, 30).Select(i => Rec(T0.AddDays(-10).AddMinutes(i), tags: tags)).ToList();
        var recent = Enumerable.Range(0, 5).Select(i => Rec(T0.AddMinutes(i), tags: tags)).ToList();
        await store.WriteAsync([.. old, .. recent], Ct);

        Assert.Equal(30, await store.DeleteOlderThanAsync(T0, Ct));
        Assert.Equal(0, await store.DeleteOlderThanAsync(T0, Ct));
        Assert.Equal(recent.Select(r => r.Id).ToHashSet(), await IdsAsync(store, new TokenUsageQuery()));
        Assert.Equal(5, Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Tag, TagKey = "team" }, Ct)).Calls);

        // Deleted ids can be written again (a late replay of an expired record is stored, then expires again).
        Assert.Equal(1, await store.WriteAsync([old[0]], Ct));
    }

    [Fact]
    public async Task Retention_SweepsOnWriteWhenDue()
    {
        var clock = new FakeTimeProvider(T0);
        var store = await NewStoreAsync(retention: TimeSpan.FromDays(7), timeProvider: clock);
        var old = Rec(T0.AddDays(-8));
        var keep = Rec(T0.AddDays(-6));

        await store.WriteAsync([old, keep], Ct); // the first write sweeps: old is already past retention
        Assert.Equal([keep.Id], await IdsAsync(store, new TokenUsageQuery()));

        var aged = Rec(T0.AddDays(-6.5));
        await store.WriteAsync([aged], Ct); // the sweep is not due again yet
        Assert.Equal(2, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);

        clock.SetUtcNow(T0.AddDays(1.5)); // 36 h later: keep (7.5 days old) and aged (8 days old) are past retention
        await store.WriteAsync([Rec(T0.AddDays(1))], Ct);
        Assert.Equal(1, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);
    }

    [Fact]
    public async Task Cost_StoredExactly_SummedPerCurrencyWithUnpricedCount()
    {
        var store = await NewStoreAsync();
        static TokenUsageRecord Priced(TokenUsageRecord r, decimal? cost, string? currency = "USD", string? feature = null) =>
            r with { Cost = cost, Currency = cost is null ? null : currency, PricedModel = cost is null ? null : r.RequestModel, Feature = feature };

        var tiny = Priced(Rec(model: "gpt-4o", session: "s1"), 0.000000000001m, feature: "search");          // 10^-12: the smallest stored unit
        var big = Priced(Rec(model: "gpt-4o", session: "s1"), 1234567.123456789012m, feature: "search");       // 19 significant digits
        var tenth = Priced(Rec(model: "claude", session: "s2"), 0.1m, feature: "chat");
        var fifth = Priced(Rec(model: "claude", session: "s2"), 0.2m, feature: "chat");                         // 0.1 + 0.2 is exactly 0.3 here
        var euro = Priced(Rec(model: "mistral", session: "s2"), 0.0375m, currency: "EUR", feature: "chat");
        var unpriced = Priced(Rec(model: "unknown-model", session: "s1"), null, feature: "search");             // usage known, price not
        var estimatedUnpriced = Priced(Rec(model: "unknown-model", source: TokenUsageSource.Estimated), null);
        var noUsage = Priced(Rec(model: "gpt-4o", input: null, output: null, source: TokenUsageSource.Missing, status: TokenUsageStatus.Error), null, feature: "chat");
        await store.WriteAsync([tiny, big, tenth, fifth, euro, unpriced, estimatedUnpriced, noUsage], Ct);

        foreach (var r in new[] { tiny, big, tenth, fifth, euro, unpriced, noUsage })
        {
            var back = await ReadBackAsync(store, r.Id);
            Assert.Equal(r.Cost, back.Cost);
            Assert.Equal(r.Currency, back.Currency);
            Assert.Equal(r.PricedModel, back.PricedModel);
            Assert.Equal(r.Feature, back.Feature);
        }

        var all = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 1234567.423456789013m, ["EUR"] = 0.0375m }, all.Costs);
        Assert.Equal(2, all.UnpricedCalls);

        // Grouped by feature (records scanned) and by model and day (the per-day rollup where the store keeps one): same sums.
        var byFeature = (await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Feature }, Ct)).ToDictionary(r => r.Keys["feature"] ?? "<null>");
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 1234567.123456789013m }, byFeature["search"].Costs);
        Assert.Equal(1, byFeature["search"].UnpricedCalls);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.3m, ["EUR"] = 0.0375m }, byFeature["chat"].Costs);
        Assert.Equal(0, byFeature["chat"].UnpricedCalls);
        Assert.Empty(byFeature["<null>"].Costs);
        Assert.Equal(1, byFeature["<null>"].UnpricedCalls);

        var byModelDay = (await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day }, Ct)).ToDictionary(r => r.Keys["model"]!);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 1234567.123456789013m }, byModelDay["gpt-4o"].Costs);
        Assert.Equal(0, byModelDay["gpt-4o"].UnpricedCalls);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.3m }, byModelDay["claude"].Costs);
        Assert.Equal(2, byModelDay["unknown-model"].UnpricedCalls);
        Assert.Empty(byModelDay["unknown-model"].Costs);
        Assert.Equal(new DateTimeOffset(T0.Date, TimeSpan.Zero), byModelDay["mistral"].BucketStart);

        // Filter by feature, on records, totals and sessions.
        Assert.Equal([tiny.Id, big.Id, unpriced.Id], await IdsAsync(store, new TokenUsageQuery { Feature = "search" }));
        Assert.Equal(3, Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { Feature = "search" }, Ct)).Calls);
        var sessions = (await store.GetSessionsAsync(new TokenUsageSessionQuery(), Ct)).ToDictionary(s => s.SessionId);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 1234567.123456789013m }, sessions["s1"].Totals.Costs);
        Assert.Equal(1, sessions["s1"].Totals.UnpricedCalls);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.3m, ["EUR"] = 0.0375m }, sessions["s2"].Totals.Costs);
        Assert.Equal(["s1"], (await store.GetSessionsAsync(new TokenUsageSessionQuery { Feature = "search" }, Ct)).Select(s => s.SessionId));

        // Deleting records takes their cost out of every total (the rollup's triggers included).
        Assert.Equal(8, await store.DeleteOlderThanAsync(T0.AddTicks(1), Ct));
        Assert.Empty(await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day }, Ct));
        await store.WriteAsync([Priced(Rec(model: "claude"), 0.5m)], Ct);
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 0.5m }, Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day }, Ct)).Costs);
    }

    [Fact]
    public async Task Content_NullWhenNotCaptured_EmptyPartsKept()
    {
        var store = await NewStoreAsync();
        var none = Rec();
        var empty = Rec() with { Content = new TokenUsageContent() };
        var partial = Rec() with { Content = new TokenUsageContent { Answer = string.Empty, ToolCalls = [] } };
        await store.WriteAsync([none, empty, partial], Ct);

        Assert.Null((await ReadBackAsync(store, none.Id)).Content);
        foreach (var r in new[] { empty, partial })
        {
            Assert.Equal(Canonical(r), Canonical(await ReadBackAsync(store, r.Id)));
        }
    }

    public static TheoryData<string> HostileStrings() => new()
    {
        "it's \"quoted\" `back` \\slash",
        "'; DROP TABLE tm_usage; --",
        "\"; DROP TABLE tm_usage; --",
        "nul\0inside\0",
        "\0",
        "escape\uE000char\uE0000\uE000\uE000",
        "emoji 🧪🚀 and 中文 and עברית",
        "line\r\nbreak\ttab",
        "%_ like wildcards %",
        "$1 @p0 :name ?",
        "json.path[0].$.x * ** \\back\\slash \\u0041",
        string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)('a' + (i * 7919 % 26)))) + "🧪" + new string('é', 5000),
    };

    [Theory]
    [MemberData(nameof(HostileStrings))]
    public async Task HostileStrings_StoredReturnedAndFilteredIntact(string s)
    {
        var store = await NewStoreAsync();
        var hostile = FullRecord(s) with
        {
            UserId = s,
            SessionId = s,
            Consumer = s,
            Provider = s,
            ResponseModel = s,
            Tags = new Dictionary<string, string> { [s] = s, ["k"] = s },
            Usage = new TokenUsage { InputTokenCount = 3, InputTokenDetails = new Dictionary<string, long> { [s] = 3 } },
            Feature = s,
            Currency = s,
            Content = new TokenUsageContent { Question = s, Answer = s, Reasoning = s, ToolCalls = [new TokenUsageToolCall { Index = 7, Id = s, Type = s, Name = s, Arguments = s }] },
        };
        var plain = Rec();
        await store.WriteAsync([hostile, plain], Ct);

        Assert.Equal(Canonical(hostile), Canonical(await ReadBackAsync(store, hostile.Id)));
        foreach (var query in new[]
        {
            new TokenUsageQuery { UserId = s }, new TokenUsageQuery { SessionId = s }, new TokenUsageQuery { Consumer = s },
            new TokenUsageQuery { Provider = s }, new TokenUsageQuery { Model = s }, new TokenUsageQuery { Feature = s },
            new TokenUsageQuery { Tags = new Dictionary<string, string> { [s] = s } }, new TokenUsageQuery { Tags = new Dictionary<string, string> { ["k"] = s } },
        })
        {
            Assert.Equal([hostile.Id], await IdsAsync(store, query));
        }

        var groups = await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.User | TokenUsageDimensions.Model | TokenUsageDimensions.Tag | TokenUsageDimensions.Feature, TagKey = s }, Ct);
        var group = Assert.Single(groups, g => g.Keys["user"] == s);
        Assert.Equal(s, group.Keys["model"]);
        Assert.Equal(s, group.Keys["tag"]);
        Assert.Equal(s, group.Keys["feature"]);
        Assert.Equal(new Dictionary<string, decimal> { [s] = 0.0001851m }, group.Costs);

        var session = Assert.Single(await store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = s, IncludeRounds = true }, Ct));
        Assert.Equal(s, session.SessionId);
        Assert.Equal([s], session.Models);
        Assert.Equal(hostile.Id, Assert.Single(session.Rounds!).Id);
        Assert.Equal(2, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total); // nothing dropped
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersWithOverlappingIds_StoreEachIdOnce()
    {
        var store = await NewStoreAsync();
        var records = Enumerable.Range(0, 2000).Select(i => Rec(T0.AddMilliseconds(i), input: 1, output: 0)).ToList();

        // Eight writers; each writes an overlapping window of the same records, in batches of 100.
        var inserted = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var count = 0;
            foreach (var chunk in records.Skip(w * 200).Take(600).Chunk(100))
            {
                count += await store.WriteAsync(chunk, CancellationToken.None);
            }

            return count;
        })));

        Assert.Equal(2000, inserted.Sum());
        var totals = Assert.Single(await store.AggregateAsync(new TokenUsageAggregateQuery(), Ct));
        Assert.Equal(2000, totals.Calls);
        Assert.Equal(2000, totals.InputTokens);
    }

    [Fact]
    public async Task StoreTokenUsageExporter_WritesIntoTheStoreIdempotently()
    {
        var store = await NewStoreAsync();
        var exporter = new StoreTokenUsageExporter(store);
        var batch = new[] { Rec(), Rec() };

        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync(batch, Ct));
        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync(batch, Ct));
        Assert.Equal(2, (await store.QueryAsync(new TokenUsageQuery(), Ct)).Total);
    }
}

internal static class TestContext
{
    public static CancellationToken Ct => CancellationToken.None;
}

using System.Net;
using System.Text.Json;
using TokenMetrics.AspNetCore.Tests.Infrastructure;

namespace TokenMetrics.AspNetCore.Tests.Api;

public sealed class QueryApiTests : IAsyncLifetime
{
    private TestApp _app = null!;
    private IReadOnlyList<TokenUsageRecord> _records = null!;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(o => o.MaxPageSize = 2);
        _records = await SampleData.SeedAsync(_app.Store);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Overview_TotalsAndSeries_EqualTheStoresAggregates()
    {
        var json = await _app.GetJsonAsync("/tokenmetrics/api/overview?" + SampleData.Range);
        var expected = (await _app.Store.AggregateAsync(new TokenUsageAggregateQuery { From = SampleData.Day, To = SampleData.Day.AddDays(1) }, default)).Single();
        var totals = json.GetProperty("totals");
        Assert.Equal(6, totals.GetProperty("calls").GetInt64());
        Assert.Equal(expected.Calls, totals.GetProperty("calls").GetInt64());
        Assert.Equal(expected.TotalTokens, totals.GetProperty("totalTokens").GetInt64());
        Assert.Equal(_records.Sum(r => r.Usage.TotalTokenCount!.Value), totals.GetProperty("totalTokens").GetInt64());
        Assert.Equal(_records.Sum(r => r.Cost ?? 0), totals.GetProperty("cost").GetProperty("USD").GetDecimal());
        Assert.Equal(1, totals.GetProperty("unpricedCalls").GetInt64());
        Assert.Equal("hour", json.GetProperty("bucket").GetString());

        // Records at minutes 1, 2 | 65, 70 | 130, 150: three hourly buckets, oldest first, summing to the totals.
        var series = json.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal([2L, 2L, 2L], series.Select(p => p.GetProperty("calls").GetInt64()));
        Assert.Equal(SampleData.Day, series[0].GetProperty("bucket").GetDateTimeOffset());
        Assert.Equal(totals.GetProperty("totalTokens").GetInt64(), series.Sum(p => p.GetProperty("totalTokens").GetInt64()));

        // Top lists: every model and user, and the sessions with their links.
        Assert.Equal(3, json.GetProperty("byModel").GetArrayLength());
        Assert.Contains(json.GetProperty("topUsers").EnumerateArray(), g => g.GetProperty("key").GetProperty("user").GetString() == "alice");
        var special = json.GetProperty("topSessions").EnumerateArray().Single(s => s.GetProperty("sessionId").GetString() == SampleData.SpecialSession);
        Assert.Equal("/tokenmetrics/sessions/" + Uri.EscapeDataString(SampleData.SpecialSession), special.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Overview_WithoutARange_CoversWholeUtcHours_EndingWithTheCurrentOne()
    {
        // Whole hours are what the stores answer from their rollup; the default window is the 24 ending with the current hour.
        var before = DateTimeOffset.UtcNow;
        var json = await _app.GetJsonAsync("/tokenmetrics/api/overview");
        var from = json.GetProperty("from").GetDateTimeOffset();
        var to = json.GetProperty("to").GetDateTimeOffset();
        Assert.Equal(0, to.UtcTicks % TimeSpan.TicksPerHour);
        Assert.True(to > before && to - before <= TimeSpan.FromHours(1), $"to = {to:O}, now = {before:O}");
        Assert.Equal(TimeSpan.FromHours(24), to - from);
    }

    [Fact]
    public async Task Overview_TopLists_AreOrderedByCost()
    {
        // Depends on the store's TokenUsageAggregateSort.Cost / TokenUsageSessionSort.Cost (helper "store").
        var json = await _app.GetJsonAsync("/tokenmetrics/api/overview?" + SampleData.Range);
        // The sample data orders differently by cost than by tokens or time, so only a cost order passes.
        Assert.Equal("gpt-4o", json.GetProperty("byModel")[0].GetProperty("key").GetProperty("model").GetString());
        Assert.Equal("alice", json.GetProperty("topUsers")[0].GetProperty("key").GetProperty("user").GetString());
        Assert.Equal("s-1", json.GetProperty("topSessions")[0].GetProperty("sessionId").GetString());
    }

    [Fact]
    public async Task Overview_Shares_SplitReportedAndEstimatedTokens()
    {
        // Depends on the store's TokenUsageAggregate.EstimatedTokens (helper "store"): 400 of 2845 tokens were estimated.
        var totals = (await _app.GetJsonAsync("/tokenmetrics/api/overview?" + SampleData.Range)).GetProperty("totals");
        Assert.Equal(400, totals.GetProperty("estimatedTokens").GetInt64());
        Assert.Equal(400.0 / 2845, totals.GetProperty("estimatedShare").GetDouble(), 6);
        Assert.Equal(1 - (400.0 / 2845), totals.GetProperty("reportedShare").GetDouble(), 6);
    }

    [Fact]
    public async Task Usage_GroupByModel_EqualsTheStoresAggregate_AndIsCappedAtMaxPageSize()
    {
        var json = await _app.GetJsonAsync("/tokenmetrics/api/usage?groupBy=model&limit=1000&" + SampleData.Range);
        Assert.Equal(["model"], json.GetProperty("groupBy").EnumerateArray().Select(e => e.GetString()));
        var groups = json.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(2, groups.Count);   // MaxPageSize = 2 although 3 models match and 1000 were asked for
        var all = await _app.Store.AggregateAsync(new TokenUsageAggregateQuery { From = SampleData.Day, To = SampleData.Day.AddDays(1), GroupBy = TokenUsageDimensions.Model }, default);
        foreach (var g in groups)
        {
            var model = g.GetProperty("key").GetProperty("model").GetString();
            var expected = all.Single(a => a.Keys["model"] == model);
            Assert.Equal(expected.Calls, g.GetProperty("calls").GetInt64());
            Assert.Equal(expected.TotalTokens, g.GetProperty("totalTokens").GetInt64());
        }
    }

    [Fact]
    public async Task Usage_GroupByTagAndDay_Work()
    {
        var byDay = await _app.GetJsonAsync("/tokenmetrics/api/usage?groupBy=day&" + SampleData.Range);
        var day = Assert.Single(byDay.GetProperty("groups").EnumerateArray());
        Assert.Equal(SampleData.Day, day.GetProperty("bucket").GetDateTimeOffset());
        Assert.Equal(6, day.GetProperty("calls").GetInt64());
        var byUser = await _app.GetJsonAsync("/tokenmetrics/api/usage?groupBy=user,model&user=alice&" + SampleData.Range);
        var alice = Assert.Single(byUser.GetProperty("groups").EnumerateArray());
        Assert.Equal(2, alice.GetProperty("calls").GetInt64());
    }

    [Theory]
    [InlineData("/tokenmetrics/api/usage?groupBy=planet", "groupBy")]
    [InlineData("/tokenmetrics/api/usage?groupBy=tag", "tagKey")]
    [InlineData("/tokenmetrics/api/usage?groupBy=hour,day", "time bucket")]
    [InlineData("/tokenmetrics/api/usage?sort=size", "sort")]
    [InlineData("/tokenmetrics/api/usage?limit=0", "limit")]
    [InlineData("/tokenmetrics/api/usage?from=2026-01-11T00:00:00Z&to=2026-01-10T00:00:00Z", "before")]
    [InlineData("/tokenmetrics/api/usage?from=2020-01-01T00:00:00Z&to=2026-01-10T00:00:00Z", "longest")]
    [InlineData("/tokenmetrics/api/overview?from=yesterday", "ISO 8601")]
    [InlineData("/tokenmetrics/api/overview?status=exploded", "status")]
    [InlineData("/tokenmetrics/api/overview?tag=novalue", "key:value")]
    [InlineData("/tokenmetrics/api/sessions?offset=-1", "offset")]
    [InlineData("/tokenmetrics/api/sessions?limit=abc", "limit")]
    [InlineData("/tokenmetrics/api/sessions?sort=name", "sort")]
    [InlineData("/tokenmetrics/api/reports/finops.csv?by=planet", "by")]
    public async Task BadQuery_Is400_WithAClearMessage(string url, string mentions)
    {
        using var response = await _app.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
        Assert.Contains(mentions, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_LimitIsCapped_AndHasMoreTellsOfTheNextPage()
    {
        var json = await _app.GetJsonAsync("/tokenmetrics/api/sessions?limit=500&" + SampleData.Range);
        Assert.Equal(2, json.GetProperty("limit").GetInt32());
        Assert.Equal(2, json.GetProperty("sessions").GetArrayLength());
        Assert.True(json.GetProperty("hasMore").GetBoolean());   // three sessions match
    }

    [Fact]
    public async Task Sessions_OffsetPages_ThroughEverySessionOnce()
    {
        // Depends on the store's TokenUsageSessionQuery.Offset (helper "store").
        var first = await _app.GetJsonAsync("/tokenmetrics/api/sessions?limit=2&offset=0&" + SampleData.Range);
        var second = await _app.GetJsonAsync("/tokenmetrics/api/sessions?limit=2&offset=2&" + SampleData.Range);
        var ids = first.GetProperty("sessions").EnumerateArray().Concat(second.GetProperty("sessions").EnumerateArray())
            .Select(s => s.GetProperty("sessionId").GetString()).ToList();
        Assert.Equal(new[] { "s-1", "s-2", SampleData.SpecialSession }.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.False(second.GetProperty("hasMore").GetBoolean());
        Assert.Equal(2, second.GetProperty("offset").GetInt32());
    }

    [Fact]
    public async Task Sessions_SortByCostTokensUpdated_PutTheirLargestFirst()
    {
        // Depends on the store's TokenUsageSessionSort (helper "store"): s-1 costs most, the special session has most tokens and is newest.
        async Task<string?> FirstAsync(string sort) =>
            (await _app.GetJsonAsync($"/tokenmetrics/api/sessions?sort={sort}&limit=1&" + SampleData.Range)).GetProperty("sessions")[0].GetProperty("sessionId").GetString();
        Assert.Equal("s-1", await FirstAsync("cost"));
        Assert.Equal(SampleData.SpecialSession, await FirstAsync("tokens"));
        Assert.Equal(SampleData.SpecialSession, await FirstAsync("updated"));
    }

    [Fact]
    public async Task SessionDetail_IdWithSlashQuestionMarkAmpersandAndColon_RoundTripsThroughItsApiUrl()
    {
        var list = await _app.GetJsonAsync("/tokenmetrics/api/sessions?limit=2&sort=updated&" + SampleData.Range);
        var apiUrl = "/tokenmetrics/api/sessions/" + Uri.EscapeDataString(SampleData.SpecialSession);
        Assert.Contains(list.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("apiUrl").GetString() == apiUrl);

        var json = await _app.GetJsonAsync(apiUrl);
        Assert.Equal(SampleData.SpecialSession, json.GetProperty("session").GetProperty("sessionId").GetString());
        var rounds = json.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(2, rounds.Count);
        Assert.Equal(["claude-sonnet-4", "claude-sonnet-4"], rounds.Select(r => r.GetProperty("model").GetString()));
        Assert.Equal(1400, rounds[0].GetProperty("totalTokens").GetInt64());
        Assert.Equal("reported", rounds[0].GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, rounds[0].GetProperty("content").ValueKind);
        Assert.False(json.GetProperty("roundsTruncated").GetBoolean());
        Assert.Equal(2, json.GetProperty("session").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task SessionDetail_WorksWithoutATimeRange_AndUnknownIdIs404()
    {
        // The sample records are far older than the default 24 hours: a deep link still opens.
        var json = await _app.GetJsonAsync("/tokenmetrics/api/sessions/s-1");
        Assert.Equal(2, json.GetProperty("rounds").GetArrayLength());
        using var missing = await _app.GetAsync("/tokenmetrics/api/sessions/" + Uri.EscapeDataString("no/such?session"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Session not found", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Cli.Tests.Report;

public sealed class ReportCommandTests(GeneratedStore data) : IClassFixture<GeneratedStore>
{
    private static readonly Dictionary<string, (TokenUsageDimensions Dimension, TokenUsageTimeBucket Bucket)> By = new()
    {
        ["model"] = (TokenUsageDimensions.Model, TokenUsageTimeBucket.None),
        ["provider"] = (TokenUsageDimensions.Provider, TokenUsageTimeBucket.None),
        ["user"] = (TokenUsageDimensions.User, TokenUsageTimeBucket.None),
        ["consumer"] = (TokenUsageDimensions.Consumer, TokenUsageTimeBucket.None),
        ["session"] = (TokenUsageDimensions.Session, TokenUsageTimeBucket.None),
        ["feature"] = (TokenUsageDimensions.Feature, TokenUsageTimeBucket.None),
        ["day"] = (TokenUsageDimensions.None, TokenUsageTimeBucket.Day),
        ["hour"] = (TokenUsageDimensions.None, TokenUsageTimeBucket.Hour),
    };

    private TokenUsageAggregateQuery Range => new() { From = GeneratedStore.Start, To = GeneratedStore.End };

    [Theory]
    [InlineData("model")]
    [InlineData("provider")]
    [InlineData("user")]
    [InlineData("consumer")]
    [InlineData("session")]
    [InlineData("feature")]
    [InlineData("day")]
    [InlineData("hour")]
    public async Task Json_groups_equal_the_stores_aggregate_for_every_by(string by)
    {
        var (code, output, error) = await data.RunOnStoreAsync("report", "--from", data.From, "--to", data.To, "--by", by, "--limit", "1000", "--format", "json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var (dimension, bucket) = By[by];
        var time = bucket != TokenUsageTimeBucket.None;
        var expected = await data.Store.AggregateAsync(
            Range with { GroupBy = dimension, Bucket = bucket, SortBy = time ? TokenUsageAggregateSort.Time : TokenUsageAggregateSort.Cost, Limit = 1000 }, default);
        var groups = json.RootElement.GetProperty("groups").EnumerateArray().ToList();
        Assert.True(expected.Count > 1, "the generated store has several groups for every --by");
        Assert.Equal(expected.Count, groups.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            AssertTotals(expected[i], groups[i]);
            if (time)
            {
                Assert.Equal(expected[i].BucketStart, groups[i].GetProperty("bucket").GetDateTimeOffset());
            }
            else
            {
                var key = groups[i].GetProperty("key").GetProperty(by);
                Assert.Equal(expected[i].Keys[by], key.ValueKind == JsonValueKind.Null ? null : key.GetString());
            }
        }

        // The TOTAL is the grand total: equal to the store's ungrouped query, to the sum of every group, and to the generated records.
        var totals = json.RootElement.GetProperty("totals");
        AssertTotals((await data.Store.AggregateAsync(Range with { Limit = 1 }, default))[0], totals);
        Assert.Equal(expected.Sum(g => g.Calls), totals.GetProperty("calls").GetInt64());
        Assert.Equal(expected.Sum(g => g.TotalTokens), totals.GetProperty("totalTokens").GetInt64());
        AssertMatchesRecords(totals);
        Assert.Equal(by, json.RootElement.GetProperty("groupBy")[0].GetString());
        Assert.Equal(data.Spec, json.RootElement.GetProperty("store").GetString());
    }

    [Theory]
    [InlineData("cost")]
    [InlineData("tokens")]
    [InlineData("calls")]
    public async Task Sort_by_orders_the_groups_largest_first(string sortBy)
    {
        var (code, output, error) = await data.RunOnStoreAsync("report", "--from", data.From, "--to", data.To, "--by", "model", "--sort-by", sortBy, "--format", "json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var values = json.RootElement.GetProperty("groups").EnumerateArray().Select(g => sortBy switch
        {
            "cost" => g.GetProperty("cost").EnumerateObject().Sum(c => c.Value.GetDecimal()),
            "tokens" => g.GetProperty("totalTokens").GetInt64(),
            _ => (decimal)g.GetProperty("calls").GetInt64(),
        }).ToList();
        Assert.True(values.Count > 3);
        Assert.Equal(values.OrderDescending(), values);
        Assert.True(values[0] > values[^1], "the groups differ, so the order is not vacuous");
    }

    [Fact]
    public async Task Limit_keeps_the_top_groups_and_the_total_stays_the_grand_total()
    {
        var all = await RunJsonAsync("--by", "model", "--sort-by", "tokens", "--limit", "1000");
        var top = await RunJsonAsync("--by", "model", "--sort-by", "tokens", "--limit", "3");
        var allGroups = all.RootElement.GetProperty("groups").EnumerateArray().ToList();
        var topGroups = top.RootElement.GetProperty("groups").EnumerateArray().ToList();
        Assert.True(allGroups.Count > 3);
        Assert.Equal(3, topGroups.Count);
        Assert.Equal(allGroups.Take(3).Select(g => g.GetRawText()), topGroups.Select(g => g.GetRawText()));
        Assert.Equal(all.RootElement.GetProperty("totals").GetRawText(), top.RootElement.GetProperty("totals").GetRawText());
        Assert.True(top.RootElement.GetProperty("totals").GetProperty("totalTokens").GetInt64() > topGroups.Sum(g => g.GetProperty("totalTokens").GetInt64()));
    }

    [Fact]
    public async Task Day_series_is_in_time_order_and_limit_keeps_the_most_recent_days()
    {
        var all = (await RunJsonAsync("--by", "day")).RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("bucket").GetDateTimeOffset()).ToList();
        var last = (await RunJsonAsync("--by", "day", "--limit", "2")).RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("bucket").GetDateTimeOffset()).ToList();
        Assert.Equal(6, all.Count);
        Assert.Equal(all.Order(), all);
        Assert.Equal(all[^2..], last);
    }

    [Fact]
    public async Task Filters_narrow_the_report_like_the_store_filter()
    {
        var json = await RunJsonAsync("--by", "model", "--user", "alice", "--tag", "team=search", "--provider", "openai");
        var expected = (await data.Store.AggregateAsync(Range with { UserId = "alice", Provider = "openai", Tags = new Dictionary<string, string> { ["team"] = "search" }, Limit = 1 }, default))[0];
        Assert.True(expected.Calls > 0);
        AssertTotals(expected, json.RootElement.GetProperty("totals"));
        var records = InRange().Where(r => r.UserId == "alice" && r.Provider == "openai" && r.Tags!["team"] == "search").ToList();
        Assert.Equal(records.Count, json.RootElement.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    [Theory]
    [InlineData("model")]
    [InlineData("user")]
    public async Task Csv_parses_back_and_no_cell_starts_with_a_formula_trigger(string by)
    {
        var (code, output, error) = await data.RunOnStoreAsync("report", "--from", data.From, "--to", data.To, "--by", by, "--limit", "1000", "--format", "csv");
        Assert.True(code == 0, error);
        var rows = ParseCsv(output);
        Assert.Equal("row", rows[0][0]);
        Assert.Equal(by, rows[0][1]);
        Assert.All(rows, r => Assert.Equal(rows[0].Count, r.Count));
        Assert.All(rows.SelectMany(r => r), cell => Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\0', cell));
        Assert.Equal("total", rows[^1][0]);

        // Every value survives: a protected cell is the value with a leading quote.
        var keys = rows.Skip(1).SkipLast(1).Select(r => r[1]).ToHashSet(StringComparer.Ordinal);
        var present = InRange().Select(r => by == "model" ? r.ResponseModel : r.UserId).OfType<string>().Distinct().ToList();
        var injected = present.Where(GeneratedStore.InjectionCorpus.Contains).ToList();
        Assert.True(injected.Count >= 4, "the corpus is in the store");
        foreach (var value in present)
        {
            var protectedValue = value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\0' ? "'" + value : value;
            Assert.Contains(protectedValue, keys);
        }

        // The numbers are the store's.
        var expected = await data.Store.AggregateAsync(Range with { GroupBy = By[by].Dimension, SortBy = TokenUsageAggregateSort.Cost, Limit = 1000 }, default);
        Assert.Equal(expected.Count, rows.Count - 2);
        Assert.Equal(expected.Select(g => g.TotalTokens.ToString(CultureInfo.InvariantCulture)), rows.Skip(1).SkipLast(1).Select(r => r[8]));
        Assert.Equal(InRange().Sum(r => r.Usage.GetTotalOrSum() ?? 0).ToString(CultureInfo.InvariantCulture), rows[^1][8]);
    }

    [Fact]
    public async Task Table_shows_the_numbers_with_no_ansi_escapes_and_hostile_names_literally()
    {
        var (code, output, error) = await data.RunOnStoreAsync("report", "--from", data.From, "--to", data.To, "--by", "model", "--limit", "1000");
        Assert.True(code == 0, error);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("Usage by model, 2026-03-01 00:00:00Z to 2026-03-08 00:00:00Z, " + data.Spec, output, StringComparison.Ordinal);
        var total = (await data.Store.AggregateAsync(Range with { Limit = 1 }, default))[0];
        var totalLine = output.Split('\n').Single(l => l.Contains("TOTAL", StringComparison.Ordinal));
        Assert.Contains(total.Calls.ToString("N0", CultureInfo.InvariantCulture), totalLine, StringComparison.Ordinal);
        Assert.Contains(total.TotalTokens.ToString("N0", CultureInfo.InvariantCulture), totalLine, StringComparison.Ordinal);
        Assert.Contains(total.Costs["USD"].ToString("0.######", CultureInfo.InvariantCulture) + " USD", output, StringComparison.Ordinal);
        var gpt4o = (await data.Store.AggregateAsync(Range with { Model = "gpt-4o", Limit = 1 }, default))[0];
        Assert.Contains(output.Split('\n'), l => l.Contains(" gpt-4o ", StringComparison.Ordinal) && l.Contains(gpt4o.TotalTokens.ToString("N0", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains("[red]evil[/] \uFFFD[31mred", output, StringComparison.Ordinal);
        Assert.Contains("no price, so the cost is a lower bound", output, StringComparison.Ordinal);
        Assert.Contains("estimated", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output, c => c is '\u0007' or '\0' or '\r');
    }

    [Fact]
    public async Task Days_ends_at_the_end_of_the_current_utc_hour()
    {
        var now = new FixedTime(new DateTimeOffset(2026, 3, 6, 23, 30, 0, TimeSpan.Zero));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var parse = new System.CommandLine.RootCommand { Commands.ReportCommand.Create(now) }.Parse(["report", "--days", "2", "--format", "json", "--store", data.Spec]);
        Assert.Empty(parse.Errors);
        Assert.Equal(0, await parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }));
        using var json = JsonDocument.Parse(output.ToString());
        var from = new DateTimeOffset(2026, 3, 5, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(2026, 3, 7, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(from, json.RootElement.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(to, json.RootElement.GetProperty("to").GetDateTimeOffset());
        Assert.Equal(data.Records.Count(r => r.Timestamp >= from && r.Timestamp < to), json.RootElement.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task An_empty_range_says_so()
    {
        var (code, output, _) = await data.RunOnStoreAsync("report", "--from", "2020-01-01", "--to", "2020-01-02");
        Assert.Equal(0, code);
        Assert.Contains("No calls in this range", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("report", "--by", "color")]
    [InlineData("report", "--sort-by", "speed")]
    [InlineData("report", "--limit", "0")]
    [InlineData("report", "--days", "0")]
    [InlineData("report", "--from", "yesterday")]
    [InlineData("report", "--from", "2026-03-05", "--to", "2026-03-01")]
    [InlineData("report", "--days", "3", "--from", "2026-03-01")]
    [InlineData("report", "--tag", "team")]
    [InlineData("report", "--format", "xml")]
    [InlineData("report", "--nope")]
    [InlineData("sessions", "list", "--offset", "-1")]
    [InlineData("sessions", "list", "--sort-by", "name")]
    [InlineData("sessions", "show")]
    [InlineData("sessions", "show", "x", "--format", "csv")]
    [InlineData("sessions")]
    public async Task Bad_options_exit_2_with_a_message(params string[] args)
    {
        var (code, output, error) = await data.RunOnStoreAsync(args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("tokenmetrics: ", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task A_missing_store_file_is_exit_1_with_what_to_do()
    {
        var path = Path.Combine(Path.GetTempPath(), "tm-missing-" + Guid.NewGuid().ToString("N") + ".db");
        var (code, _, error) = await GeneratedStore.RunAsync("report", "--store", "sqlite:" + path);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains(path, error, StringComparison.Ordinal);
        Assert.Contains("--store", error, StringComparison.Ordinal);
        Assert.False(File.Exists(path), "a report never creates a store");
    }

    [Fact]
    public async Task A_file_that_is_not_a_store_is_exit_1()
    {
        var path = Path.Combine(Path.GetTempPath(), "tm-notdb-" + Guid.NewGuid().ToString("N") + ".db");
        await File.WriteAllTextAsync(path, "this is not a database, just text that is long enough to be read as a header by sqlite....");
        try
        {
            var (code, _, error) = await GeneratedStore.RunAsync("report", "--store", path);
            Assert.Equal(ExitCodes.InputError, code);
            Assert.Contains("cannot read the store", error, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { "report" }, new[] { "--store", "--from", "--to", "--days", "--by", "--sort-by", "--limit", "--format", "--model", "--provider", "--user", "--consumer", "--session", "--feature", "--tag", "[default: 7]", "[default: model]", "[default: cost]", "[default: 20]", "[default: table]" })]
    [InlineData(new[] { "sessions", "list" }, new[] { "--store", "--from", "--to", "--days", "--sort-by", "--limit", "--offset", "--format", "--model", "--user", "--tag", "[default: updated]", "[default: 20]", "[default: 0]", "[default: table]" })]
    [InlineData(new[] { "sessions", "show" }, new[] { "--store", "--format", "--no-content", "ID", "[default: table]" })]
    public async Task Help_lists_every_option_with_its_default(string[] command, string[] expected)
    {
        var (code, output, _) = await GeneratedStore.RunAsync([.. command, "--help"]);
        Assert.Equal(0, code);
        foreach (var text in expected)
        {
            Assert.Contains(text, output, StringComparison.Ordinal);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private IEnumerable<TokenUsageRecord> InRange() => data.Records.Where(r => r.Timestamp >= GeneratedStore.Start && r.Timestamp < GeneratedStore.End);

    private void AssertMatchesRecords(JsonElement totals)
    {
        var records = InRange().ToList();
        Assert.Equal(records.Count, totals.GetProperty("calls").GetInt64());
        Assert.Equal(records.Sum(r => r.Usage.GetTotalOrSum() ?? 0), totals.GetProperty("totalTokens").GetInt64());
        Assert.Equal(records.Count(r => r.Source == TokenUsageSource.Estimated), totals.GetProperty("estimatedCalls").GetInt64());
        Assert.Equal(records.Count(r => r.Cost is null && r.Source != TokenUsageSource.Missing), totals.GetProperty("unpricedCalls").GetInt64());
        foreach (var currency in new[] { "USD", "EUR" })
        {
            Assert.Equal(records.Where(r => r.Currency == currency).Sum(r => r.Cost!.Value), totals.GetProperty("cost").GetProperty(currency).GetDecimal());
        }
    }

    private static void AssertTotals(TokenUsageAggregate expected, JsonElement actual)
    {
        Assert.Equal(expected.Calls, actual.GetProperty("calls").GetInt64());
        Assert.Equal(expected.InputTokens, actual.GetProperty("inputTokens").GetInt64());
        Assert.Equal(expected.OutputTokens, actual.GetProperty("outputTokens").GetInt64());
        Assert.Equal(expected.CachedInputTokens, actual.GetProperty("cachedInputTokens").GetInt64());
        Assert.Equal(expected.ReasoningTokens, actual.GetProperty("reasoningTokens").GetInt64());
        Assert.Equal(expected.TotalTokens, actual.GetProperty("totalTokens").GetInt64());
        Assert.Equal(expected.EstimatedCalls, actual.GetProperty("estimatedCalls").GetInt64());
        Assert.Equal(expected.EstimatedTokens, actual.GetProperty("estimatedTokens").GetInt64());
        Assert.Equal(expected.UnpricedCalls, actual.GetProperty("unpricedCalls").GetInt64());
        Assert.Equal(expected.MissingCalls, actual.GetProperty("missingCalls").GetInt64());
        Assert.Equal(
            expected.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)),
            actual.GetProperty("cost").EnumerateObject().OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => (c.Name, c.Value.GetDecimal())));
        var averageMs = expected.Calls > 0 ? Math.Round(expected.TotalDuration.TotalMilliseconds / expected.Calls, 3) : 0;
        Assert.Equal(averageMs, actual.GetProperty("averageLatencyMs").GetDouble());
    }

    private async Task<JsonDocument> RunJsonAsync(params string[] args)
    {
        var (code, output, error) = await data.RunOnStoreAsync(["report", "--from", data.From, "--to", data.To, "--format", "json", .. args]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output);
    }

    /// <summary>A strict RFC 4180 reader: quoted fields with doubled quotes, CRLF records.</summary>
    internal static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"' && cell.Length == 0)
            {
                i++;
                while (true)
                {
                    Assert.True(i < text.Length, "unterminated quoted field");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            cell.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    cell.Append(text[i++]);
                }

                Assert.True(i >= text.Length || text[i] is ',' or '\r', "a quoted field ends at a separator");
            }
            else if (text[i] == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
                i++;
            }
            else if (text[i] == '\r')
            {
                Assert.Equal('\n', text[i + 1]);
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
                i += 2;
            }
            else
            {
                Assert.NotEqual('"', text[i]);
                Assert.NotEqual('\n', text[i]);
                cell.Append(text[i++]);
            }
        }

        Assert.Empty(row);
        return rows;
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using TokenMetrics.AspNetCore.Tests.Infrastructure;

namespace TokenMetrics.AspNetCore.Tests.Api;

public sealed class ReportApiTests
{
    public static readonly string[] InjectionCorpus =
    [
        "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1", "\tTAB", "\rCR", "\0NUL", "quote\"inside", "comma,inside", "new\nline", "=HYPERLINK(\"http://x\")",
    ];

    [Fact]
    public async Task FinOpsJson_NumbersEqualTheStoresAggregates_AsAnAttachment()
    {
        await using var app = await TestApp.StartAsync();
        var records = await SampleData.SeedAsync(app.Store);
        using var response = await app.GetAsync("/tokenmetrics/api/reports/finops.json?" + SampleData.Range);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith("tokenmetrics-finops-20260110T000000Z-20260111T000000Z", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        var range = new TokenUsageAggregateQuery { From = SampleData.Day, To = SampleData.Day.AddDays(1) };
        var total = (await app.Store.AggregateAsync(range, default)).Single();
        var summary = json.GetProperty("summary");
        Assert.Equal(total.Calls, summary.GetProperty("total_calls").GetInt64());
        Assert.Equal(total.InputTokens, summary.GetProperty("total_input_tokens").GetInt64());
        Assert.Equal(total.OutputTokens, summary.GetProperty("total_output_tokens").GetInt64());
        Assert.Equal(total.ReasoningTokens, summary.GetProperty("total_reasoning_tokens").GetInt64());
        Assert.Equal(total.Costs["USD"], summary.GetProperty("total_cost_usd").GetDecimal());
        Assert.Equal(3, summary.GetProperty("total_sessions").GetInt64());
        Assert.Equal(1, summary.GetProperty("unpriced_calls").GetInt64());

        var byModel = await app.Store.AggregateAsync(range with { GroupBy = TokenUsageDimensions.Model }, default);
        foreach (var row in byModel)
        {
            var entry = json.GetProperty("by_model").GetProperty(row.Keys["model"]!);
            Assert.Equal(row.Calls, entry.GetProperty("calls").GetInt64());
            Assert.Equal(row.InputTokens, entry.GetProperty("total_input").GetInt64());
            Assert.Equal(row.OutputTokens, entry.GetProperty("total_output").GetInt64());
            Assert.Equal(row.Costs.GetValueOrDefault("USD"), entry.GetProperty("total_cost").GetDecimal());
        }

        Assert.Equal(1, json.GetProperty("by_model").GetProperty("gpt-4o").GetProperty("session_count").GetInt64());
        Assert.Equal(1, json.GetProperty("by_model").GetProperty("claude-sonnet-4").GetProperty("session_count").GetInt64());
        var day = json.GetProperty("by_date").GetProperty("2026-01-10");
        Assert.Equal(6, day.GetProperty("calls").GetInt64());
        Assert.Equal(3, day.GetProperty("session_count").GetInt64());
        Assert.Equal(["claude-sonnet-4", "gpt-4o", "gpt-4o-mini"], day.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(2, json.GetProperty("by_user").GetProperty("bob").GetProperty("calls").GetInt64());
        Assert.Equal(records.Where(r => r.UserId == "alice").Sum(r => r.Cost!.Value), json.GetProperty("by_user").GetProperty("alice").GetProperty("total_cost").GetDecimal());
    }

    [Theory]
    [InlineData("model", "Model")]
    [InlineData("day", "Date")]
    [InlineData("user", "User")]
    public async Task FinOpsCsv_HeadersAndTotals(string by, string first)
    {
        await using var app = await TestApp.StartAsync();
        await SampleData.SeedAsync(app.Store);
        using var response = await app.GetAsync($"/tokenmetrics/api/reports/finops.csv?by={by}&" + SampleData.Range);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var rows = ParseCsv(await response.Content.ReadAsStringAsync());
        var header = new List<string> { first, "Sessions", "Calls", "Input Tokens", "Output Tokens", "Reasoning Tokens", "Cost", "Currency" };
        if (by == "day")
        {
            header.Add("Models");
        }

        Assert.Equal(header, rows[0]);
        Assert.Equal(6, rows.Skip(1).Sum(r => long.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(2845, rows.Skip(1).Sum(r => long.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task FinOpsCsv_InjectionCorpus_NoCellStartsWithATrigger_AndEveryValueSurvives()
    {
        await using var app = await TestApp.StartAsync();
        var records = InjectionCorpus.Select((name, i) => SampleData.Record(i, name, name, "s-" + i, 10, 5, 0.01m)).ToList();
        await SampleData.SeedAsync(app.Store, records);
        foreach (var by in new[] { "model", "user" })
        {
            using var response = await app.GetAsync($"/tokenmetrics/api/reports/finops.csv?by={by}&" + SampleData.Range);
            var rows = ParseCsv(await response.Content.ReadAsStringAsync());
            Assert.Equal(InjectionCorpus.Length + 1, rows.Count);
            foreach (var cell in rows.SelectMany(r => r))
            {
                Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\0', $"cell starts with a formula trigger: {cell}");
            }

            // Each name comes back exactly, behind the apostrophe where it needed one.
            var names = rows.Skip(1).Select(r => r[0].StartsWith('\'') ? r[0][1..] : r[0]).ToHashSet(StringComparer.Ordinal);
            Assert.True(names.SetEquals(InjectionCorpus), string.Join(" | ", names));
        }
    }

    [Fact]
    public void Csv_QuotesPerRfc4180()
    {
        Assert.Equal("plain", TokenMetrics.Reports.Internal.Csv.Escape("plain"));
        Assert.Equal("\"a,b\"", TokenMetrics.Reports.Internal.Csv.Escape("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", TokenMetrics.Reports.Internal.Csv.Escape("say \"hi\""));
        Assert.Equal("\"'=1+\"\"x\"\"\"", TokenMetrics.Reports.Internal.Csv.Escape("=1+\"x\""));
        Assert.Equal("\"'\rx\"", TokenMetrics.Reports.Internal.Csv.Escape("\rx"));
    }

    /// <summary>A strict RFC 4180 reader: quoted fields with doubled quotes, CRLF row ends.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var i = 0;
        var quoted = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i += 2;
                    continue;
                }

                if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }

                i++;
                continue;
            }

            switch (c)
            {
                case '"' when cell.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    row.Add(cell.ToString());
                    cell.Clear();
                    break;
                case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                    row.Add(cell.ToString());
                    cell.Clear();
                    rows.Add(row);
                    row = [];
                    i++;
                    break;
                default:
                    Assert.False(c is '\r' or '\n', "a bare CR or LF outside quotes");
                    cell.Append(c);
                    break;
            }

            i++;
        }

        Assert.Empty(row);
        Assert.Equal(0, cell.Length);
        return rows;
    }
}

using System.Globalization;
using System.Text.Json;

namespace TokenMetrics.Cli.Tests.Report;

public sealed class SessionsCommandTests(GeneratedStore data) : IClassFixture<GeneratedStore>
{
    [Theory]
    [InlineData("updated")]
    [InlineData("cost")]
    [InlineData("tokens")]
    public async Task List_pages_through_every_session_exactly_once_in_the_stores_order(string sortBy)
    {
        var seen = new List<string>();
        var offset = 0;
        for (var page = 0; page < 20; page++)
        {
            using var json = await ListJsonAsync("--sort-by", sortBy, "--limit", "4", "--offset", offset.ToString(CultureInfo.InvariantCulture));
            var sessions = json.RootElement.GetProperty("sessions").EnumerateArray().ToList();
            seen.AddRange(sessions.Select(s => s.GetProperty("sessionId").GetString()!));
            offset += sessions.Count;
            if (!json.RootElement.GetProperty("hasMore").GetBoolean())
            {
                break;
            }

            Assert.Equal(4, sessions.Count);
        }

        var expected = data.Records.Where(r => r.SessionId is not null).Select(r => r.SessionId!).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(27, expected.Count);
        Assert.Equal(expected, seen.Order(StringComparer.Ordinal).ToList());

        var sort = sortBy switch { "cost" => TokenUsageSessionSort.Cost, "tokens" => TokenUsageSessionSort.Tokens, _ => TokenUsageSessionSort.Updated };
        var store = await data.Store.GetSessionsAsync(new TokenUsageSessionQuery { From = GeneratedStore.Start, To = GeneratedStore.End, SortBy = sort, Limit = 100 }, default);
        Assert.Equal(store.Select(s => s.SessionId), seen);
    }

    [Fact]
    public async Task List_sorts_by_cost_tokens_and_updated()
    {
        using var byTokens = await ListJsonAsync("--sort-by", "tokens", "--limit", "100");
        var tokens = byTokens.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("totalTokens").GetInt64()).ToList();
        Assert.Equal(tokens.OrderDescending(), tokens);
        Assert.True(tokens[0] > tokens[^1]);

        using var byCost = await ListJsonAsync("--sort-by", "cost", "--limit", "100");
        var costs = byCost.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("cost").EnumerateObject().Sum(c => c.Value.GetDecimal())).ToList();
        Assert.Equal(costs.OrderDescending(), costs);

        using var byUpdated = await ListJsonAsync("--limit", "100");
        var updated = byUpdated.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("updatedAt").GetDateTimeOffset()).ToList();
        Assert.Equal(updated.OrderDescending(), updated);
        foreach (var s in byUpdated.RootElement.GetProperty("sessions").EnumerateArray())
        {
            var id = s.GetProperty("sessionId").GetString();
            var records = data.Records.Where(r => r.SessionId == id).ToList();
            Assert.Equal(records.Count, s.GetProperty("calls").GetInt64());
            Assert.Equal(records.Max(r => r.Timestamp), s.GetProperty("updatedAt").GetDateTimeOffset());
        }
    }

    [Fact]
    public async Task List_table_truncates_long_ids_prints_hostile_ids_literally_and_offers_the_next_page()
    {
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "list", "--from", data.From, "--to", data.To, "--sort-by", "tokens", "--limit", "100");
        Assert.True(code == 0, error);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u0007', output);
        Assert.DoesNotContain(GeneratedStore.LongSession, output, StringComparison.Ordinal);
        Assert.Contains(GeneratedStore.LongSession[..(Commands.SessionsCommand.IdWidth - 1)] + "…", output, StringComparison.Ordinal);
        Assert.Contains("sess-[bold]x[/]\uFFFD-\uFFFD[2J", output, StringComparison.Ordinal);
        Assert.Contains("Sessions 1 to 27.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("more:", output, StringComparison.Ordinal);

        var top = (await data.Store.GetSessionsAsync(new TokenUsageSessionQuery { From = GeneratedStore.Start, To = GeneratedStore.End, SortBy = TokenUsageSessionSort.Tokens, Limit = 1 }, default))[0];
        Assert.Contains(output.Split('\n'), l => l.Contains(top.Totals.TotalTokens.ToString("N0", CultureInfo.InvariantCulture), StringComparison.Ordinal) && l.Contains(top.Totals.Calls.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        var (_, paged, _) = await data.RunOnStoreAsync("sessions", "list", "--from", data.From, "--to", data.To, "--limit", "10", "--offset", "10");
        Assert.Contains("Sessions 11 to 20; more: --offset 20", paged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_csv_carries_full_ids_and_protects_cells()
    {
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "list", "--from", data.From, "--to", data.To, "--limit", "100", "--format", "csv");
        Assert.True(code == 0, error);
        var rows = ReportCommandTests.ParseCsv(output);
        Assert.Equal(28, rows.Count);
        Assert.Contains(rows, r => r[0] == GeneratedStore.LongSession);
        Assert.Contains(rows, r => r[0] == GeneratedStore.HostileSession);
        Assert.All(rows.SelectMany(r => r), cell => Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\0', cell));
    }

    [Fact]
    public async Task Show_rounds_equal_the_stores_rounds()
    {
        var session = (await data.Store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = "s-004", IncludeRounds = true }, default)).Single();
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "show", "s-004", "--format", "json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var rounds = json.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(session.Rounds!.Count, rounds.Count);
        Assert.Equal(data.Records.Count(r => r.SessionId == "s-004"), rounds.Count);
        for (var i = 0; i < rounds.Count; i++)
        {
            var r = session.Rounds[i];
            Assert.Equal(r.Id, rounds[i].GetProperty("id").GetGuid());
            Assert.Equal(r.Usage.InputTokenCount, Nullable(rounds[i].GetProperty("inputTokens")));
            Assert.Equal(r.Usage.OutputTokenCount, Nullable(rounds[i].GetProperty("outputTokens")));
            Assert.Equal(r.Cost, rounds[i].GetProperty("cost").ValueKind == JsonValueKind.Null ? null : rounds[i].GetProperty("cost").GetDecimal());
            Assert.Equal(r.Source.ToString().ToLowerInvariant(), rounds[i].GetProperty("source").GetString());
            Assert.Equal(r.Content?.Question, rounds[i].GetProperty("content") is { ValueKind: JsonValueKind.Object } c ? c.GetProperty("question").GetString() : null);
        }

        Assert.Equal(session.Totals.TotalTokens, json.RootElement.GetProperty("session").GetProperty("totalTokens").GetInt64());
        Assert.Contains(rounds, r => r.GetProperty("content").ValueKind == JsonValueKind.Object);

        var (_, bare, _) = await data.RunOnStoreAsync("sessions", "show", "s-004", "--format", "json", "--no-content");
        using var bareJson = JsonDocument.Parse(bare);
        Assert.All(bareJson.RootElement.GetProperty("rounds").EnumerateArray(), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("content").ValueKind));
    }

    [Fact]
    public async Task Show_table_has_the_header_rounds_tool_calls_and_cut_content()
    {
        // s-001 gets records 0, 27, 54...: record 0 and 216 have content with a tool call (i % 8 == 0).
        var session = (await data.Store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = "s-001", IncludeRounds = true }, default)).Single();
        Assert.Contains(session.Rounds!, r => r.Content?.ToolCalls is { Count: > 0 });
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "show", "s-001");
        Assert.True(code == 0, error);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("Session s-001", output, StringComparison.Ordinal);
        Assert.Contains($"{session.Totals.InputTokens:N0} (cached {session.Totals.CachedInputTokens:N0}", output, StringComparison.Ordinal);
        Assert.Contains($"{session.Totals.TotalTokens:N0} tokens", output, StringComparison.Ordinal);
        Assert.Contains("tool: get_weather({\"city\":\"Paris\"", output, StringComparison.Ordinal);
        foreach (var round in session.Rounds!)
        {
            Assert.Contains($"{round.Usage.InputTokenCount?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} → {round.Usage.OutputTokenCount?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"}", output, StringComparison.Ordinal);
        }

        var question = session.Rounds.First(r => r.Content?.Question is not null).Content!.Question!;
        Assert.Contains("Q: " + question[..20], output, StringComparison.Ordinal);
        Assert.DoesNotContain(question, output, StringComparison.Ordinal);
        Assert.Contains("(estimated)", string.Join('\n', (await data.RunOnStoreAsync("sessions", "show", "s-004")).Out), StringComparison.Ordinal);

        var (_, bare, _) = await data.RunOnStoreAsync("sessions", "show", "s-001", "--no-content");
        Assert.DoesNotContain("Q: ", bare, StringComparison.Ordinal);
        Assert.DoesNotContain("Paris", bare, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_a_hostile_session_prints_it_literally()
    {
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "show", GeneratedStore.HostileSession);
        Assert.True(code == 0, error);
        Assert.Contains("Session sess-[bold]x[/]\uFFFD-\uFFFD[2J", output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
    }

    [Fact]
    public async Task Show_an_unknown_session_exits_1_with_a_message()
    {
        var (code, output, error) = await data.RunOnStoreAsync("sessions", "show", "no-such-session");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains("no session 'no-such-session'", error, StringComparison.Ordinal);
        Assert.Contains("sessions list", error, StringComparison.Ordinal);
    }

    private static long? Nullable(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetInt64();

    private async Task<JsonDocument> ListJsonAsync(params string[] args)
    {
        var (code, output, error) = await data.RunOnStoreAsync(["sessions", "list", "--from", data.From, "--to", data.To, "--format", "json", .. args]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output);
    }
}

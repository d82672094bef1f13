using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using TokenMetrics.Cli.Reports;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics sessions list</c> and <c>tokenmetrics sessions show ID</c>: conversations and agent runs from a store.</summary>
internal static class SessionsCommand
{
    /// <summary>How much of a session id the list table shows (JSON and CSV carry it whole).</summary>
    internal const int IdWidth = 36;

    public static Command Create() => Create(TimeProvider.System);

    internal static Command Create(TimeProvider time) =>
        new("sessions", "List sessions (conversations, agent runs) from a TokenMetrics store, or show one with its rounds.")
        {
            List(time),
            Show(),
        };

    private static Command List(TimeProvider time)
    {
        var scope = new ReportScope(formats: ["table", "json", "csv"]);
        var sortBy = new Option<string>("--sort-by")
        {
            Description = "Order: updated (most recent first), cost (summed over currencies) or tokens (largest first).",
            HelpName = "ORDER",
            DefaultValueFactory = _ => "updated",
        };
        sortBy.AcceptOnlyFromAmong("updated", "cost", "tokens");
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"The most sessions listed (1 to {TokenUsageFilter.MaxLimit}).",
            HelpName = "N",
            DefaultValueFactory = _ => 20,
        };
        var offset = new Option<int>("--offset")
        {
            Description = "Skip this many sessions (the next page: --offset N as the list suggests).",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
        };

        var command = new Command("list", "List the sessions active in the range, with their last model, calls, tokens and cost.") { sortBy, limit, offset };
        scope.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(limit) is { Implicit: false } && result.GetValue(limit) is < 1 or > TokenUsageFilter.MaxLimit)
            {
                result.AddError($"--limit must be between 1 and {TokenUsageFilter.MaxLimit}.");
            }

            if (result.GetResult(offset) is { Implicit: false } && result.GetValue(offset) < 0)
            {
                result.AddError("--offset must be 0 or more.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sort = parse.GetValue(sortBy) switch
            {
                "cost" => TokenUsageSessionSort.Cost,
                "tokens" => TokenUsageSessionSort.Tokens,
                _ => TokenUsageSessionSort.Updated,
            };
            var query = scope.Sessions(parse, time) with { SortBy = sort, Offset = parse.GetValue(offset), Limit = parse.GetValue(limit) };
            var label = scope.StoreLabel(parse);
            var format = parse.GetValue(scope.Format)!;
            var output = parse.InvocationConfiguration.Output;
            return await ReportStore.UseAsync(parse.GetValue(scope.Store), label, async store =>
            {
                var (sessions, more) = await PageAsync(store, query, cancellationToken).ConfigureAwait(false);
                switch (format)
                {
                    case "json":
                        await output.WriteLineAsync(ListJson(label, query, sessions, more)).ConfigureAwait(false);
                        break;
                    case "csv":
                        await output.WriteAsync(ListCsv(sessions)).ConfigureAwait(false);
                        break;
                    default:
                        ListTable(ReportConsole.Create(output), label, query, sessions, more);
                        break;
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>One page; one more session than shown is asked for, to know whether another page follows.</summary>
    internal static async Task<(IReadOnlyList<TokenUsageSession> Sessions, bool More)> PageAsync(ITokenUsageStore store, TokenUsageSessionQuery query, CancellationToken ct)
    {
        var ask = Math.Min(query.Limit + 1, TokenUsageFilter.MaxLimit);
        var rows = await store.GetSessionsAsync(query with { Limit = ask }, ct).ConfigureAwait(false);
        return (rows.Take(query.Limit).ToList(), rows.Count > query.Limit);
    }

    internal static string ListJson(string label, TokenUsageSessionQuery query, IReadOnlyList<TokenUsageSession> sessions, bool more) =>
        JsonSerializer.Serialize(
            new SessionListJson
            {
                Store = label,
                From = query.From!.Value,
                To = query.To!.Value,
                SortBy = query.SortBy.ToString().ToLowerInvariant(),
                Offset = query.Offset,
                Limit = query.Limit,
                HasMore = more,
                Sessions = [.. sessions.Select(SessionJson.From)],
            },
            ReportJsonContext.Output.SessionListJson);

    internal static string ListCsv(IReadOnlyList<TokenUsageSession> sessions)
    {
        var text = new StringBuilder();
        Csv.AppendRow(text, ["session_id", "created_at", "updated_at", "last_model", "models", "calls", "input_tokens", "output_tokens", "total_tokens", "estimated_calls", "unpriced_calls", "cost", "currency"]);
        foreach (var s in sessions)
        {
            var t = s.Totals;
            var costs = t.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            Csv.AppendRow(text, [
                s.SessionId, ReportText.Iso(s.CreatedAt), ReportText.Iso(s.UpdatedAt), s.LastModel, string.Join(";", s.Models),
                N(t.Calls), N(t.InputTokens), N(t.OutputTokens), N(t.TotalTokens), N(t.EstimatedCalls), N(t.UnpricedCalls),
                string.Join(";", costs.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))),
                string.Join(";", costs.Select(c => c.Key))]);
        }

        return text.ToString();

        static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
    }

    internal static void ListTable(IAnsiConsole console, string label, TokenUsageSessionQuery query, IReadOnlyList<TokenUsageSession> sessions, bool more)
    {
        console.Write(ReportConsole.Cell(
            $"Sessions by {query.SortBy.ToString().ToLowerInvariant()}, {ReportText.Time(query.From!.Value)} to {ReportText.Time(query.To!.Value)}, {ReportConsole.Clean(label)}\n",
            new Style(decoration: Decoration.Bold)));
        if (sessions.Count == 0)
        {
            console.Write(ReportConsole.Cell(query.Offset > 0
                ? $"No sessions at offset {query.Offset}: the list has fewer. Try a smaller --offset.\n"
                : "No sessions in this range. Widen it with --days N or --from/--to, or check the filters and --store.\n"));
            return;
        }

        var table = new Table().Border(ReportConsole.Border(console));
        table.AddColumn(new TableColumn(ReportConsole.Cell("session")).NoWrap());
        table.AddColumn(new TableColumn(ReportConsole.Cell("updated")).NoWrap());
        table.AddColumn(new TableColumn(ReportConsole.Cell("last model")).NoWrap());
        foreach (var header in new[] { "calls", "tokens", "cost" })
        {
            table.AddColumn(new TableColumn(ReportConsole.Cell(header)).RightAligned().NoWrap());
        }

        foreach (var s in sessions)
        {
            table.AddRow(
                ReportConsole.Cell(ReportConsole.Cut(s.SessionId, IdWidth)),
                ReportConsole.Cell(ReportText.Time(s.UpdatedAt)),
                ReportConsole.Cell(ReportConsole.Cut(s.LastModel ?? "-", 48)),
                ReportConsole.Cell(ReportText.Count(s.Totals.Calls)),
                ReportConsole.Cell(ReportText.Count(s.Totals.TotalTokens)),
                ReportConsole.Cell(ReportText.CostCell(s.Totals.Costs, s.Totals.UnpricedCalls, "; ")));
        }

        console.Write(table);
        var notes = new List<string>
        {
            $"Sessions {query.Offset + 1} to {query.Offset + sessions.Count}" + (more ? $"; more: --offset {query.Offset + sessions.Count}" : "."),
        };
        if (sessions.Any(s => s.Totals.UnpricedCalls > 0))
        {
            notes.Add("A cost marked + leaves out calls without a price (a lower bound).");
        }

        notes.Add("'tokenmetrics sessions show ID' shows a session's rounds.");
        foreach (var note in notes)
        {
            console.Write(ReportConsole.Cell(note + "\n", new Style(decoration: Decoration.Dim)));
        }
    }

    private static Command Show()
    {
        var scope = new ReportScope(withRange: false, withFilters: false, formats: ["table", "json"]);
        var noContent = new Option<bool>("--no-content")
        {
            Description = "Leave out captured content (questions, answers, reasoning, tool-call arguments).",
        };
        var id = new Argument<string>("ID") { Description = "The session id, as 'sessions list --format json' or your app's records carry it." };
        var command = new Command("show", "Show one session: its totals and every round (time, model, tokens, cost, latency, status, tool calls, content when captured).") { id, noContent };
        scope.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sessionId = parse.GetValue(id)!;
            var label = scope.StoreLabel(parse);
            var format = parse.GetValue(scope.Format)!;
            var content = !parse.GetValue(noContent);
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            return await ReportStore.UseAsync(parse.GetValue(scope.Store), label, async store =>
            {
                var found = await store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = sessionId, IncludeRounds = true, Limit = 1 }, cancellationToken).ConfigureAwait(false);
                if (found.Count == 0)
                {
                    await error.WriteLineAsync($"tokenmetrics sessions show: no session '{ReportConsole.Cut(sessionId, 200)}' in {label}. 'tokenmetrics sessions list' shows the ids (use --days N for older ones).").ConfigureAwait(false);
                    return ExitCodes.InputError;
                }

                if (format == "json")
                {
                    await output.WriteLineAsync(ShowJson(label, found[0], content)).ConfigureAwait(false);
                }
                else
                {
                    ShowText(ReportConsole.Create(output), label, found[0], content);
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    internal static string ShowJson(string label, TokenUsageSession session, bool content) =>
        JsonSerializer.Serialize(
            new SessionDetailJson
            {
                Store = label,
                Session = SessionJson.From(session),
                Rounds = [.. (session.Rounds ?? []).Select(r => RoundJson.From(r, content))],
            },
            ReportJsonContext.Output.SessionDetailJson);

    internal static void ShowText(IAnsiConsole console, string label, TokenUsageSession session, bool content)
    {
        var t = TotalsJson.Fill(new TotalsJson(), session.Totals);
        var bold = new Style(decoration: Decoration.Bold);
        var dim = new Style(decoration: Decoration.Dim);
        console.Write(ReportConsole.Cell($"Session {ReportConsole.Clean(session.SessionId)}\n", bold));
        void Row(string name, string value)
        {
            console.Write(ReportConsole.Cell($"{name,-12} ", dim));
            console.Write(ReportConsole.Cell(value + "\n"));
        }

        Row("store", ReportConsole.Clean(label));
        Row("created", ReportText.Time(session.CreatedAt));
        Row("updated", ReportText.Time(session.UpdatedAt));
        Row("models", session.Models.Count == 0 ? "-" : ReportConsole.Clean(string.Join(", ", session.Models)));
        Row("calls", $"{ReportText.Count(t.Calls)}" + (t.FailedCalls > 0 ? $" ({ReportText.Count(t.FailedCalls)} not ok)" : string.Empty));
        Row("input", $"{ReportText.Count(t.InputTokens)} (cached {ReportText.Count(t.CachedInputTokens)}, cache write {ReportText.Count(t.CacheWriteInputTokens)}, uncached {ReportText.Count(t.InputTokens - t.CachedInputTokens - t.CacheWriteInputTokens)})");
        Row("output", $"{ReportText.Count(t.OutputTokens)} (reasoning {ReportText.Count(t.ReasoningTokens)})");
        Row("total", $"{ReportText.Count(t.TotalTokens)} tokens, {ReportText.Share(t.EstimatedShare)} estimated");
        Row("cost", ReportText.Costs(t.Cost, ", ") + (t.UnpricedCalls > 0 ? $" + {ReportText.Count(t.UnpricedCalls)} unpriced call{(t.UnpricedCalls == 1 ? string.Empty : "s")} (a lower bound)" : string.Empty));
        Row("avg latency", ReportText.Latency(t.AverageLatencyMs));
        console.WriteLine();

        var rounds = session.Rounds ?? [];
        var table = new Table().Border(ReportConsole.Border(console));
        table.AddColumn(new TableColumn(ReportConsole.Cell("#")).RightAligned().NoWrap());
        table.AddColumn(new TableColumn(ReportConsole.Cell("time")).NoWrap());
        table.AddColumn(new TableColumn(ReportConsole.Cell("model")).NoWrap());
        foreach (var header in new[] { "in → out", "cached", "reasoning", "cost", "latency" })
        {
            table.AddColumn(new TableColumn(ReportConsole.Cell(header)).RightAligned().NoWrap());
        }

        table.AddColumn(new TableColumn(ReportConsole.Cell("status")).NoWrap());
        table.AddColumn(new TableColumn(ReportConsole.Cell("details")));
        for (var i = 0; i < rounds.Count; i++)
        {
            var r = rounds[i];
            var u = r.Usage;
            var status = r.Status.ToString().ToLowerInvariant() + (r.HttpStatusCode is { } code && r.Status != TokenUsageStatus.Ok ? $" {code}" : string.Empty);
            table.AddRow(
                ReportConsole.Cell((i + 1).ToString(CultureInfo.InvariantCulture)),
                ReportConsole.Cell(ReportText.Time(r.Timestamp)),
                ReportConsole.Cell(ReportConsole.Cut(r.ResponseModel ?? r.RoutedModel ?? r.RequestModel ?? "-", 40)),
                ReportConsole.Cell($"{ReportText.Count(u.InputTokenCount)} → {ReportText.Count(u.OutputTokenCount)}"),
                ReportConsole.Cell(ReportText.Count(u.CachedInputTokenCount)),
                ReportConsole.Cell(ReportText.Count(u.ReasoningTokenCount)),
                ReportConsole.Cell(r.Cost is { } cost ? $"{ReportText.Money(cost)} {r.Currency ?? "?"}" : u.IsEmpty ? "-" : "unpriced"),
                ReportConsole.Cell(ReportText.Latency(r.Duration.TotalMilliseconds)),
                ReportConsole.Cell(status + r.Source switch { TokenUsageSource.Estimated => " (estimated)", TokenUsageSource.Missing => " (no usage)", _ => string.Empty }),
                ReportConsole.Cell(Details(r, content)));
        }

        console.Write(table);
        if (rounds.Count == 0)
        {
            console.Write(ReportConsole.Cell("No rounds stored for this session.\n", dim));
        }
    }

    /// <summary>Tool calls <c>name(args…)</c> cut to 80 characters; question, answer and reasoning cut to 150 (when captured).</summary>
    internal static string Details(TokenUsageRecord r, bool content)
    {
        var lines = new List<string>();
        foreach (var call in r.Content?.ToolCalls ?? [])
        {
            lines.Add("tool: " + ReportConsole.Cut($"{call.Name ?? "?"}({(content ? call.Arguments : "…")})", 80));
        }

        if (content && r.Content is { } c)
        {
            Add("Q", c.Question);
            Add("A", c.Answer);
            Add("R", c.Reasoning);
        }

        if (r.ErrorType is { } error)
        {
            lines.Add("error: " + ReportConsole.Cut(error, 80));
        }

        return lines.Count == 0 ? string.Empty : string.Join('\n', lines);

        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                lines.Add($"{name}: {ReportConsole.Cut(value, 150)}");
            }
        }
    }
}

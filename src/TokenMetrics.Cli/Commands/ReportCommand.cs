using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using TokenMetrics.Cli.Reports;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics report</c>: usage and cost of a store grouped by one dimension or by day/hour, with an exact grand total.</summary>
internal static class ReportCommand
{
    private static readonly string[] ByNames = ["model", "provider", "user", "consumer", "session", "feature", "day", "hour"];

    public static Command Create() => Create(TimeProvider.System);

    internal static Command Create(TimeProvider time)
    {
        var scope = new ReportScope(formats: ["table", "json", "csv"]);
        var by = new Option<string>("--by", "-b")
        {
            Description = "Group by: model, provider, user, consumer, session, feature, day or hour (UTC).",
            HelpName = "DIMENSION",
            DefaultValueFactory = _ => "model",
        };
        by.AcceptOnlyFromAmong(ByNames);
        var sortBy = new Option<string>("--sort-by")
        {
            Description = "Order of the groups: cost (summed over currencies), tokens or calls. --by day|hour lists in time order unless --sort-by is given.",
            HelpName = "ORDER",
            DefaultValueFactory = _ => "cost",
        };
        sortBy.AcceptOnlyFromAmong("cost", "tokens", "calls");
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"The most groups listed (1 to {TokenUsageFilter.MaxLimit}); with --by day|hour in time order, the most recent. The TOTAL row counts all of them.",
            HelpName = "N",
            DefaultValueFactory = _ => 20,
        };

        var command = new Command("report", "Usage and cost from a TokenMetrics store, grouped by model, provider, user, consumer, session, feature, day or hour, with the total.") { by, sortBy, limit };
        scope.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(limit) is { Implicit: false } && result.GetValue(limit) is < 1 or > TokenUsageFilter.MaxLimit)
            {
                result.AddError($"--limit must be between 1 and {TokenUsageFilter.MaxLimit}.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                parse.GetValue(by)!,
                parse.GetResult(sortBy) is { Implicit: false } ? parse.GetValue(sortBy) : null,
                parse.GetValue(limit),
                parse.GetValue(scope.Format)!,
                scope.StoreLabel(parse),
                scope.Aggregate(parse, time));
            var output = parse.InvocationConfiguration.Output;
            return await ReportStore.UseAsync(parse.GetValue(scope.Store), settings.Store, store => RunAsync(store, settings, output, cancellationToken)).ConfigureAwait(false);
        });
        return command;
    }

    internal sealed record Settings(string By, string? SortBy, int Limit, string Format, string Store, TokenUsageAggregateQuery Filter)
    {
        public bool IsTime => By is "day" or "hour";

        /// <summary>The order asked of the store: time for a time series unless a sort was named; cost by default.</summary>
        public TokenUsageAggregateSort Sort => (SortBy ?? (IsTime ? "time" : "cost")) switch
        {
            "tokens" => TokenUsageAggregateSort.Tokens,
            "calls" => TokenUsageAggregateSort.Calls,
            "time" => TokenUsageAggregateSort.Time,
            _ => TokenUsageAggregateSort.Cost,
        };
    }

    /// <summary>The groups and the grand total, as the store computes them.</summary>
    internal static async Task<(TokenUsageAggregate? Total, IReadOnlyList<TokenUsageAggregate> Groups, bool More)> QueryAsync(ITokenUsageStore store, Settings s, CancellationToken ct)
    {
        // The TOTAL is its own ungrouped query: exact over every group, not the sum of the listed top N.
        var totals = await store.AggregateAsync(s.Filter with { GroupBy = TokenUsageDimensions.None, Bucket = TokenUsageTimeBucket.None, Limit = 1 }, ct).ConfigureAwait(false);
        var (dimension, bucket) = s.By switch
        {
            "provider" => (TokenUsageDimensions.Provider, TokenUsageTimeBucket.None),
            "user" => (TokenUsageDimensions.User, TokenUsageTimeBucket.None),
            "consumer" => (TokenUsageDimensions.Consumer, TokenUsageTimeBucket.None),
            "session" => (TokenUsageDimensions.Session, TokenUsageTimeBucket.None),
            "feature" => (TokenUsageDimensions.Feature, TokenUsageTimeBucket.None),
            "day" => (TokenUsageDimensions.None, TokenUsageTimeBucket.Day),
            "hour" => (TokenUsageDimensions.None, TokenUsageTimeBucket.Hour),
            _ => (TokenUsageDimensions.Model, TokenUsageTimeBucket.None),
        };
        var sort = s.Sort;

        // A time series keeps its most recent buckets, so it needs all of them (a range has at most MaxLimit hours worth asking
        // for); a ranking asks one more than it shows, to say whether more groups exist.
        var ask = sort == TokenUsageAggregateSort.Time ? TokenUsageFilter.MaxLimit : Math.Min(s.Limit + 1, TokenUsageFilter.MaxLimit);
        var rows = await store.AggregateAsync(s.Filter with { GroupBy = dimension, Bucket = bucket, SortBy = sort, Limit = ask }, ct).ConfigureAwait(false);
        if (sort == TokenUsageAggregateSort.Time && rows.Count >= TokenUsageFilter.MaxLimit)
        {
            // More buckets than a store returns (over a year of hours): the oldest came back, so ask again for the last --limit
            // buckets only, from an aligned bucket start (a whole first bucket).
            var size = bucket == TokenUsageTimeBucket.Hour ? TimeSpan.TicksPerHour : TimeSpan.TicksPerDay;
            var last = (s.Filter.To!.Value.UtcTicks - 1) / size * size;
            var start = new DateTimeOffset(last - ((s.Limit - 1) * size), TimeSpan.Zero);
            if (start > s.Filter.From)
            {
                rows = await store.AggregateAsync(s.Filter with { From = start, GroupBy = dimension, Bucket = bucket, SortBy = sort, Limit = ask }, ct).ConfigureAwait(false);
            }
        }

        var more = rows.Count > s.Limit;
        var shown = sort == TokenUsageAggregateSort.Time ? rows.Skip(Math.Max(0, rows.Count - s.Limit)).ToList() : rows.Take(s.Limit).ToList();
        return (totals.Count > 0 ? totals[0] : null, shown, more);
    }

    private static async Task<int> RunAsync(ITokenUsageStore store, Settings s, TextWriter output, CancellationToken ct)
    {
        var (total, groups, more) = await QueryAsync(store, s, ct).ConfigureAwait(false);
        switch (s.Format)
        {
            case "json":
                await output.WriteLineAsync(ToJson(s, total, groups)).ConfigureAwait(false);
                break;
            case "csv":
                await output.WriteAsync(ToCsv(s, total, groups)).ConfigureAwait(false);
                break;
            default:
                Table(ReportConsole.Create(output), s, total, groups, more);
                break;
        }

        await output.FlushAsync(ct).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    internal static string ToJson(Settings s, TokenUsageAggregate? total, IReadOnlyList<TokenUsageAggregate> groups) =>
        JsonSerializer.Serialize(
            new ReportJson
            {
                Store = s.Store,
                From = s.Filter.From!.Value,
                To = s.Filter.To!.Value,
                GroupBy = [s.By],
                SortBy = s.Sort.ToString().ToLowerInvariant(),
                Limit = s.Limit,
                Totals = TotalsJson.Fill(new TotalsJson(), total),
                Groups = [.. groups.Select(GroupJson.From)],
            },
            ReportJsonContext.Output.ReportJson);

    /// <summary>One CSV row per group, then the total (first column <c>row</c> = group|total, so no key value can pass for the total).</summary>
    internal static string ToCsv(Settings s, TokenUsageAggregate? total, IReadOnlyList<TokenUsageAggregate> groups)
    {
        var text = new StringBuilder();
        Csv.AppendRow(text, [
            "row", s.By, "calls", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_input_tokens", "reasoning_tokens",
            "total_tokens", "estimated_calls", "estimated_tokens", "estimated_share", "missing_calls", "failed_calls", "unpriced_calls",
            "avg_latency_ms", "cost", "currency"]);
        foreach (var g in groups)
        {
            Csv.AppendRow(text, Cells("group", Key(s, g), TotalsJson.Fill(new TotalsJson(), g)));
        }

        Csv.AppendRow(text, Cells("total", null, TotalsJson.Fill(new TotalsJson(), total)));
        return text.ToString();

        static IEnumerable<string?> Cells(string row, string? key, TotalsJson t)
        {
            var costs = t.Cost.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            return
            [
                row, key, N(t.Calls), N(t.InputTokens), N(t.OutputTokens), N(t.CachedInputTokens), N(t.CacheWriteInputTokens), N(t.ReasoningTokens),
                N(t.TotalTokens), N(t.EstimatedCalls), N(t.EstimatedTokens), t.EstimatedShare.ToString("0.######", CultureInfo.InvariantCulture),
                N(t.MissingCalls), N(t.FailedCalls), N(t.UnpricedCalls), t.AverageLatencyMs.ToString(CultureInfo.InvariantCulture),

                // Several currencies (rare) share one cell each, in the same order, as the FinOps CSV does: unlike amounts are never added.
                string.Join(";", costs.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))),
                string.Join(";", costs.Select(c => c.Key)),
            ];
        }

        static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The group's name: the dimension value, the bucket start for day/hour; null means "not set".</summary>
    internal static string? Key(Settings s, TokenUsageAggregate g) => s.By switch
    {
        "day" => g.BucketStart?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        "hour" => g.BucketStart?.UtcDateTime.ToString("yyyy-MM-dd'T'HH':00Z'", CultureInfo.InvariantCulture),
        _ => g.Keys.TryGetValue(s.By, out var value) ? value : null,
    };

    internal static void Table(IAnsiConsole console, Settings s, TokenUsageAggregate? total, IReadOnlyList<TokenUsageAggregate> groups, bool more)
    {
        var order = s.Sort == TokenUsageAggregateSort.Time ? "in time order" : $"by {s.Sort.ToString().ToLowerInvariant()}";
        console.Write(ReportConsole.Cell(
            $"Usage by {s.By}, {ReportText.Time(s.Filter.From!.Value)} to {ReportText.Time(s.Filter.To!.Value)}, {ReportConsole.Clean(s.Store)}\n",
            new Style(decoration: Decoration.Bold)));
        if (total is null || total.Calls == 0)
        {
            console.Write(ReportConsole.Cell("No calls in this range. Widen it with --days N or --from/--to, or check the filters and --store.\n"));
            return;
        }

        var table = new Table().Border(ReportConsole.Border(console)).ShowFooters();
        var t = TotalsJson.Fill(new TotalsJson(), total);
        Column(table, s.By, "TOTAL", left: true);
        Column(table, "calls", ReportText.Count(t.Calls));
        Column(table, "input", ReportText.Count(t.InputTokens));
        Column(table, "output", ReportText.Count(t.OutputTokens));
        Column(table, "cached", ReportText.Count(t.CachedInputTokens));
        Column(table, "reasoning", ReportText.Count(t.ReasoningTokens));
        Column(table, "total tokens", ReportText.Count(t.TotalTokens));
        Column(table, "cost", ReportText.CostCell(t.Cost, t.UnpricedCalls));
        Column(table, "estimated", ReportText.Share(t.EstimatedShare));
        Column(table, "avg latency", ReportText.Latency(t.AverageLatencyMs));
        foreach (var g in groups)
        {
            var r = TotalsJson.Fill(new TotalsJson(), g);
            table.AddRow(
                ReportConsole.Cell(ReportConsole.Cut(Key(s, g) ?? "(none)", 64)),
                ReportConsole.Cell(ReportText.Count(r.Calls)),
                ReportConsole.Cell(ReportText.Count(r.InputTokens)),
                ReportConsole.Cell(ReportText.Count(r.OutputTokens)),
                ReportConsole.Cell(ReportText.Count(r.CachedInputTokens)),
                ReportConsole.Cell(ReportText.Count(r.ReasoningTokens)),
                ReportConsole.Cell(ReportText.Count(r.TotalTokens)),
                ReportConsole.Cell(ReportText.CostCell(r.Cost, r.UnpricedCalls)),
                ReportConsole.Cell(ReportText.Share(r.EstimatedShare)),
                ReportConsole.Cell(ReportText.Latency(r.AverageLatencyMs)));
        }

        console.Write(table);
        var notes = new List<string>
        {
            more
                ? $"{groups.Count} groups shown {order}; more exist (raise --limit). TOTAL covers all of them."
                : $"{groups.Count} group{(groups.Count == 1 ? string.Empty : "s")} {order}.",
        };
        if (t.UnpricedCalls > 0)
        {
            notes.Add($"{ReportText.Count(t.UnpricedCalls)} call{(t.UnpricedCalls == 1 ? " has" : "s have")} no price, so the cost is a lower bound (rows marked +). 'tokenmetrics prices MODEL' shows what a model resolves to.");
        }

        if (t.EstimatedCalls > 0)
        {
            notes.Add($"{ReportText.Count(t.EstimatedCalls)} call{(t.EstimatedCalls == 1 ? " was" : "s were")} estimated (no usage from the vendor; counted with the tokenizer): {ReportText.Share(t.EstimatedShare)} of the tokens.");
        }

        if (t.MissingCalls > 0)
        {
            notes.Add($"{ReportText.Count(t.MissingCalls)} call{(t.MissingCalls == 1 ? " has" : "s have")} no usage at all (not counted in the tokens).");
        }

        foreach (var note in notes)
        {
            console.Write(ReportConsole.Cell("Note: " + note + "\n", new Style(decoration: Decoration.Dim)));
        }
    }

    private static void Column(Table table, string header, string footer, bool left = false)
    {
        var column = new TableColumn(ReportConsole.Cell(header)).Footer(ReportConsole.Cell(footer)).NoWrap();
        table.AddColumn(left ? column.LeftAligned() : column.RightAligned());
    }
}

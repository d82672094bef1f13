using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Data.Common;
using System.Globalization;
using System.Linq;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli.Reports;

/// <summary>The options every store-reading command shares (<c>--store</c>, the time range, the filters, <c>--format</c>), declared
/// once so <c>report</c> and <c>sessions</c> spell, default and validate them alike.</summary>
internal sealed class ReportScope
{
    private readonly Option<int> _days = new("--days", "-d")
    {
        Description = "The range: the last N days up to the end of the current UTC hour (ignored with --from).",
        HelpName = "N",
        DefaultValueFactory = _ => 7,
    };

    private readonly Option<string?> _from = new("--from")
    {
        Description = "The start of the range (inclusive): an ISO 8601 date or time (UTC unless it has an offset), e.g. 2026-01-31 or 2026-01-31T08:00Z. Default: --days before --to.",
        HelpName = "TIME",
    };

    private readonly Option<string?> _to = new("--to")
    {
        Description = "The end of the range (exclusive), same forms as --from. Default: the end of the current UTC hour.",
        HelpName = "TIME",
    };

    private readonly Option<string?> _model = new("--model", "-m") { Description = "Only this model (request, routed or response model).", HelpName = "NAME" };
    private readonly Option<string?> _provider = new("--provider", "-p") { Description = "Only this provider (openai, anthropic, aws.bedrock...).", HelpName = "NAME" };
    private readonly Option<string?> _user = new("--user", "-u") { Description = "Only this end user.", HelpName = "ID" };
    private readonly Option<string?> _consumer = new("--consumer") { Description = "Only this consumer (the calling app or API key owner).", HelpName = "NAME" };
    private readonly Option<string?> _session = new("--session") { Description = "Only this session.", HelpName = "ID" };
    private readonly Option<string?> _feature = new("--feature") { Description = "Only this product feature.", HelpName = "NAME" };

    private readonly Option<string[]> _tags = new("--tag")
    {
        Description = "Only records with this tag value; repeat for several (all must match).",
        HelpName = "KEY=VALUE",
        Arity = ArgumentArity.ZeroOrMore,
    };

    // What a header may show of a PostgreSQL connection string: never the password or user.
    private static readonly string[] SafeKeys = ["Host", "Server", "Port", "Database"];

    private readonly bool _withRange;
    private readonly bool _withFilters;

    public ReportScope(bool withRange = true, bool withFilters = true, params string[] formats)
    {
        _withRange = withRange;
        _withFilters = withFilters;
        Store = new Option<string?>("--store", "-s") { Description = StoreLocator.Help, HelpName = "STORE" };
        Format = new Option<string>("--format", "-f")
        {
            Description = $"The output: {string.Join(", ", formats)}.",
            HelpName = "FORMAT",
            DefaultValueFactory = _ => formats[0],
        };
        Format.AcceptOnlyFromAmong(formats);
    }

    public Option<string?> Store { get; }

    public Option<string> Format { get; }

    /// <summary>Adds the options to a command, with the range and tag validation.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Store);
        if (_withRange)
        {
            command.Options.Add(_from);
            command.Options.Add(_to);
            command.Options.Add(_days);
        }

        if (_withFilters)
        {
            foreach (var option in new Option[] { _model, _provider, _user, _consumer, _session, _feature, _tags })
            {
                command.Options.Add(option);
            }
        }

        command.Options.Add(Format);
        command.Validators.Add(Validate);
    }

    /// <summary>The store's label for headers: its kind and location, never a password (a PostgreSQL connection string is cut to
    /// its host, port and database).</summary>
    public string StoreLabel(ParseResult parse)
    {
        var spec = parse.GetValue(Store);
        spec = string.IsNullOrWhiteSpace(spec) ? Environment.GetEnvironmentVariable(StoreLocator.EnvironmentVariable) : spec;
        spec = string.IsNullOrWhiteSpace(spec) ? "sqlite:" + SqliteTokenUsageStoreOptions.DefaultDatabasePath : spec.Trim();
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && spec[..colon].ToLowerInvariant() is "postgres" or "postgresql")
        {
            try
            {
                var builder = new DbConnectionStringBuilder { ConnectionString = spec[(colon + 1)..] };
                var kept = SafeKeys
                    .Where(builder.ContainsKey)
                    .Select(k => $"{k}={builder[k]}");
                return "postgres:" + string.Join(';', kept);
            }
            catch (ArgumentException)
            {
                return "postgres";
            }
        }

        return spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase) ? spec : "sqlite:" + spec;
    }

    /// <summary>The range: <c>--from</c>/<c>--to</c>, else the last <c>--days</c> days up to the end of the current UTC hour (the
    /// hour-aligned end lets the stores answer from their hourly rollup, as the dashboard does).</summary>
    public (DateTimeOffset From, DateTimeOffset To) Range(ParseResult parse, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var endOfHour = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerHour), TimeSpan.Zero).AddHours(1);
        var to = ParseTime(parse.GetValue(_to)) ?? endOfHour;
        var from = ParseTime(parse.GetValue(_from)) ?? to.AddDays(-parse.GetValue(_days));
        return (from, to);
    }

    /// <summary>The filter of the command line as an aggregate query (grouping, sort and limit left to the caller).</summary>
    public TokenUsageAggregateQuery Aggregate(ParseResult parse, TimeProvider time)
    {
        var (from, to) = Range(parse, time);
        return new TokenUsageAggregateQuery
        {
            From = from,
            To = to,
            Model = parse.GetValue(_model),
            Provider = parse.GetValue(_provider),
            UserId = parse.GetValue(_user),
            Consumer = parse.GetValue(_consumer),
            SessionId = parse.GetValue(_session),
            Feature = parse.GetValue(_feature),
            Tags = Tags(parse),
        };
    }

    /// <summary>The filter of the command line as a session query.</summary>
    public TokenUsageSessionQuery Sessions(ParseResult parse, TimeProvider time)
    {
        var a = Aggregate(parse, time);
        return new TokenUsageSessionQuery
        {
            From = a.From,
            To = a.To,
            Model = a.Model,
            Provider = a.Provider,
            UserId = a.UserId,
            Consumer = a.Consumer,
            SessionId = a.SessionId,
            Feature = a.Feature,
            Tags = a.Tags,
        };
    }

    private Dictionary<string, string>? Tags(ParseResult parse)
    {
        var items = parse.GetValue(_tags);
        if (items is not { Length: > 0 })
        {
            return null;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            tags[item[..eq]] = item[(eq + 1)..];
        }

        return tags;
    }

    private void Validate(CommandResult result)
    {
        if (!_withRange)
        {
            return;
        }

        DateTimeOffset? from = null, to = null;
        foreach (var (option, set) in new (Option<string?> Option, Action<DateTimeOffset> Set)[] { (_from, v => from = v), (_to, v => to = v) })
        {
            if (result.GetValue(option) is { } text)
            {
                if (ParseTime(text) is { } value)
                {
                    set(value);
                }
                else
                {
                    result.AddError($"{option.Name} '{text}' is not a date or time: use ISO 8601, e.g. 2026-01-31 or 2026-01-31T08:00:00Z.");
                }
            }
        }

        if (from is { } f && to is { } t && f >= t)
        {
            result.AddError("--from must be before --to.");
        }

        if (result.GetResult(_days) is { Implicit: false } && result.GetValue(_days) is < 1 or > 3660)
        {
            result.AddError("--days must be between 1 and 3660.");
        }

        if (result.GetResult(_days) is { Implicit: false } && result.GetResult(_from) is not null)
        {
            result.AddError("Use either --days or --from, not both.");
        }

        if (_withFilters)
        {
            foreach (var tag in result.GetValue(_tags) ?? [])
            {
                if (tag.IndexOf('=', StringComparison.Ordinal) < 1)
                {
                    result.AddError($"--tag '{tag}' must be KEY=VALUE, e.g. --tag team=search.");
                }
            }
        }
    }

    /// <summary>An ISO 8601 date or time; without an offset it is UTC (reports are in UTC, like the stores' buckets).</summary>
    internal static DateTimeOffset? ParseTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;
}

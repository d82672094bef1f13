using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Spectre.Console;

namespace TokenMetrics.Cli.Reports;

/// <summary>Spectre.Console bound to the command's output writer: colours and the terminal's width only on a real terminal; plain
/// text (no ANSI escape, ASCII borders, a fixed wide width so nothing wraps) when redirected, in tests, or with <c>NO_COLOR</c>.</summary>
internal static class ReportConsole
{
    /// <summary>The width of redirected output: wide enough for every report column, so a pipe never sees a wrapped row.</summary>
    public const int RedirectedWidth = 400;

    public static IAnsiConsole Create(TextWriter output)
    {
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!terminal)
        {
            console.Profile.Width = RedirectedWidth;
            console.Profile.Capabilities.Unicode = false;
        }

        return console;
    }

    /// <summary>Rounded box drawing on a terminal; ASCII (<c>+---+</c>) when redirected, whatever code page the reader uses.</summary>
    public static TableBorder Border(IAnsiConsole console) => console.Profile.Capabilities.Unicode ? TableBorder.Rounded : TableBorder.Ascii;

    /// <summary>Text as data, never markup (<c>[red]</c> prints as typed), with control characters (ANSI escapes, CR, bell...)
    /// replaced by U+FFFD so a hostile model name or session id cannot move the cursor or recolour the terminal. Our own line
    /// breaks (<c>\n</c> between lines the caller built) stay; values from records go through <see cref="Clean"/> or
    /// <see cref="Cut"/> first, which remove theirs.</summary>
    public static Text Cell(string? value, Style? style = null) => new(string.Join('\n', (value ?? "-").Split('\n').Select(Clean)), style);

    public static string Clean(string value)
    {
        if (!value.Any(char.IsControl))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            _ = text.Append(char.IsControl(c) ? '\uFFFD' : c);
        }

        return text.ToString();
    }

    /// <summary>Cuts a value to <paramref name="max"/> characters (with the ellipsis), on one line.</summary>
    public static string Cut(string? value, int max)
    {
        var clean = Clean((value ?? string.Empty).ReplaceLineEndings(" "));
        return clean.Length <= max ? clean : clean[..(max - 1)] + "…";
    }
}

/// <summary>How numbers look in tables (invariant culture: the same on every machine, and what the tests compare).</summary>
internal static class ReportText
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Count(long? value) => value is { } v ? Count(v) : "-";

    /// <summary>A cost: up to 6 decimals (the JSON and CSV keep every digit).</summary>
    public static string Money(decimal value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Costs per currency, one per line (amounts in different currencies are never added).</summary>
    public static string Costs(IReadOnlyDictionary<string, decimal> costs, string separator = "\n") =>
        costs.Count == 0
            ? "-"
            : string.Join(separator, costs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{Money(c.Value)} {(c.Key.Length == 0 ? "?" : ReportConsole.Clean(c.Key))}"));

    /// <summary>A group's cost cell: the costs, marked <c>+</c> when some calls had no price (the amount is a lower bound), or
    /// <c>unpriced</c> when none had one.</summary>
    public static string CostCell(IReadOnlyDictionary<string, decimal> costs, long unpricedCalls, string separator = "\n") =>
        costs.Count == 0 && unpricedCalls > 0 ? "unpriced" : Costs(costs, separator) + (unpricedCalls > 0 ? " +" : string.Empty);

    public static string Share(double share) => share.ToString("0.#%", CultureInfo.InvariantCulture);

    public static string Latency(double milliseconds) =>
        milliseconds >= 10_000
            ? (milliseconds / 1000).ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : milliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}

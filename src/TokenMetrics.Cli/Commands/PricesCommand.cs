using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics prices [MODEL] [--provider NAME] [--prices FILE] [--json]</c>: the price entry a model resolves to, or the catalog.</summary>
internal static class PricesCommand
{
    public static Command Create()
    {
        var provider = new Option<string?>("--provider", "-p")
        {
            Description = "The provider (gen_ai.provider.name: openai, azure.ai.openai, anthropic, aws.bedrock, gcp.gemini, dashscope...): prefers its entry; filters the list.",
            HelpName = "NAME",
        };
        var prices = new Option<FileInfo?>("--prices")
        {
            Description = "A JSON price file (model -> {input, output, ...} in USD per 1M tokens, or the catalog format) applied over the shipped catalog.",
            HelpName = "FILE",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON: one object for a model, an array for the list." };
        var model = new Argument<string?>("MODEL")
        {
            Description = "The model name as a record carries it (gpt-4o-2024-08-06, us.anthropic.claude-...-v1:0, models/gemini-2.5-pro). Lists the catalog when omitted.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        var command = new Command("prices", "Show the price a model resolves to (and its source and date), or list the price catalog.") { provider, prices, json, model };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var catalog = Load(parse.GetValue(prices));
            var name = parse.GetValue(model);
            var providerName = parse.GetValue(provider);
            if (name is null)
            {
                var entries = catalog.Entries.Where(e => providerName is null || string.Equals(e.Provider, providerName, StringComparison.OrdinalIgnoreCase)).ToList();
                await output.WriteAsync(parse.GetValue(json) ? ListJson(entries) : Table(entries)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var match = catalog.Resolve(name, providerName);
            if (match is null)
            {
                await error.WriteLineAsync($"tokenmetrics prices: no price known for '{name}'{(providerName is null ? string.Empty : $" ({providerName})")}; its records get cost null. Add one with --prices FILE, or TokenMetrics:Pricing:Prices in your app.").ConfigureAwait(false);
                return ExitCodes.InputError;
            }

            await output.WriteAsync(parse.GetValue(json) ? MatchJson(match) + Environment.NewLine : Describe(match)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The shipped catalog, with the user's file applied over it exactly as the library applies a price file.</summary>
    internal static TokenUsagePriceCatalog Load(FileInfo? file)
    {
        if (file is null)
        {
            return TokenUsagePriceCatalog.Default;
        }

        if (!file.Exists)
        {
            throw new CliException(ExitCodes.InputError, $"{file.FullName}: no such file");
        }

        try
        {
            using var pricer = new TokenUsagePricer(new TokenMetricsPricingOptions { PriceFile = file.FullName }, TimeProvider.System, NullLogger.Instance, (_, _) => { });
            return pricer.GetCatalog(null);
        }
        catch (FormatException ex)
        {
            throw new CliException(ExitCodes.InputError, $"{file.FullName}: {ex.Message}");
        }
    }

    internal static string Describe(TokenUsagePriceMatch match)
    {
        var e = match.Entry;
        var p = e.Price;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"model       {match.Model}");
        text.AppendLine(CultureInfo.InvariantCulture, $"entry       {e.Key}");
        text.AppendLine(CultureInfo.InvariantCulture, $"provider    {e.Provider ?? "(any)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"matched     {Kind(match.Kind)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"prices      {p.Currency} per 1M tokens");
        Lines(text, string.Empty, p);
        foreach (var tier in p.Tiers ?? [])
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  above {tier.AboveInputTokens:N0} input tokens:");
            Lines(text, "  ", tier.Price);
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"source      {e.Source ?? "-"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"date        {e.Date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-"}");
        return text.ToString();
    }

    internal static string MatchJson(TokenUsagePriceMatch match)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", match.Model);
            w.WriteString("match", Kind(match.Kind));
            WriteEntry(w, match.Entry);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string ListJson(List<TokenUsagePriceEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var entry in entries)
            {
                w.WriteStartObject();
                WriteEntry(w, entry);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }

    private static void WriteEntry(Utf8JsonWriter w, TokenUsagePriceEntry e)
    {
        w.WriteString("key", e.Key);
        w.WriteString("provider", e.Provider);
        w.WriteString("currency", e.Price.Currency);
        WritePrices(w, e.Price);
        if (e.Price.Tiers is { Count: > 0 } tiers)
        {
            w.WriteStartArray("tiers");
            foreach (var tier in tiers)
            {
                w.WriteStartObject();
                w.WriteNumber("above_input_tokens", tier.AboveInputTokens);
                WritePrices(w, tier.Price);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteString("source", e.Source);
        w.WriteString("date", e.Date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    /// <summary>The rates of one price, in display order, with their text label and JSON name: one list for both outputs.</summary>
    private static (string Label, string Json, decimal? Value)[] Rates(TokenUsagePrice p) =>
    [
        ("input", "input", p.Input),
        ("cached input", "cached_input", p.CachedInput),
        ("cache write", "cache_write", p.CacheWrite),
        ("cache write 1h", "cache_write_1h", p.CacheWrite1h),
        ("output", "output", p.Output),
        ("reasoning", "reasoning", p.Reasoning),
        ("batch input", "batch_input", p.BatchInput),
        ("batch output", "batch_output", p.BatchOutput),
    ];

    private static void WritePrices(Utf8JsonWriter w, TokenUsagePrice p)
    {
        foreach (var (_, name, value) in Rates(p))
        {
            if (value is { } v)
            {
                w.WriteNumber(name, v);
            }
        }
    }

    private static string Table(List<TokenUsagePriceEntry> entries)
    {
        var text = new StringBuilder();
        text.AppendLine("model                                              provider          input  cached  write  write1h  output  reasoning  date");
        foreach (var e in entries)
        {
            var p = e.Price;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{e.Key,-50} {e.Provider ?? "(any)",-16} {Cell(p.Input),6} {Cell(p.CachedInput),7} {Cell(p.CacheWrite),6} {Cell(p.CacheWrite1h),8} {Cell(p.Output),7} {Cell(p.Reasoning),10}  {e.Date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-"}{(p.Tiers is { Count: > 0 } ? "  (tiers)" : string.Empty)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{entries.Count} entries; USD per 1M tokens. 'tokenmetrics prices MODEL' shows one entry with its tiers and source.");
        return text.ToString();
    }

    private static void Lines(StringBuilder text, string indent, TokenUsagePrice p)
    {
        foreach (var (label, _, value) in Rates(p))
        {
            if (value is { } v)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {indent + label,-17}{v}");
            }
        }
    }

    private static string Cell(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Kind(TokenUsagePriceMatchKind kind) => kind.ToString().ToLowerInvariant();
}

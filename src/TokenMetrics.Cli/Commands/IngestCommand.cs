using System.CommandLine;
using System.Linq;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using TokenMetrics.Cli.Ingest;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics ingest higress --log PATH [--follow] [--interval 1s] [--state FILE] [--store ...] [--capture-content] [--batch-size N]</c>:
/// Higress access logs (the ai-statistics plugin's <c>ai_log</c>) into a TokenMetrics store, priced, once per line.</summary>
internal static class IngestCommand
{
    /// <summary>The state file's default name: next to the log, so each log has its own.</summary>
    public const string StateSuffix = ".tokenmetrics-state.json";

    public static Command Create() => new("ingest", "Ingest usage from gateway logs into a TokenMetrics store.") { CreateHigress() };

    private static Command CreateHigress()
    {
        var log = new Option<string>("--log")
        {
            Description = "The Higress access log (JSON lines with ai_log). Its rotations PATH.1 ... PATH.100 are read first, oldest first.",
            HelpName = "PATH",
            Required = true,
        };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep reading new lines (and new rotations) until Ctrl+C; the state is saved after every write." };
        var interval = new Option<string>("--interval")
        {
            Description = "With --follow, how often to look for new lines: 500ms, 1s, 2m. Default 1s.",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "1s",
        };
        var state = new Option<string?>("--state")
        {
            Description = "Where the byte offsets read so far are kept. Default: PATH" + StateSuffix + ". Losing it only costs time: ids are derived from the lines, so nothing is stored twice.",
            HelpName = "FILE",
        };
        var store = new Option<string?>("--store") { Description = StoreLocator.Help, HelpName = "STORE" };
        var content = new Option<bool>("--capture-content")
        {
            Description = "Also store question, answer, reasoning and tool calls (each cut to 4000 characters). Off by default: logs of conversations are private.",
        };
        var batch = new Option<int>("--batch-size")
        {
            Description = "Lines per store transaction (and per state save): 1 to 100000. Default 4096. Larger batches use more memory and gained nothing measurable here.",
            HelpName = "N",
            DefaultValueFactory = _ => HigressIngestSettings.DefaultBatchSize,
        };
        var prices = new Option<FileInfo?>("--prices")
        {
            Description = "A JSON price file applied over the shipped catalog (as in 'tokenmetrics prices --prices').",
            HelpName = "FILE",
        };

        var command = new Command("higress", "Ingest a Higress access log with ai_log (ai-statistics plugin): rotation-safe, idempotent, priced with the catalog.")
        {
            log, follow, interval, state, store, content, batch, prices,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(log)!;
            var settings = new HigressIngestSettings
            {
                LogPath = path,
                StatePath = parse.GetValue(state) is { Length: > 0 } s ? s : path + StateSuffix,
                CaptureContent = parse.GetValue(content),
                BatchSize = parse.GetValue(batch) is var size and >= 1 and <= 100_000
                    ? size
                    : throw new CliException(ExitCodes.Usage, $"--batch-size {parse.GetValue(batch)}: give a number of lines from 1 to 100000 (default {HigressIngestSettings.DefaultBatchSize})."),
                Catalog = PricesCommand.Load(parse.GetValue(prices)),
            };
            var every = ParseInterval(parse.GetValue(interval) ?? "1s");
            return await RunAsync(settings, parse.GetValue(store), parse.GetValue(follow), every, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the ingestion (what the command does after parsing; the follow tests call it with their own token).</summary>
    /// <returns><see cref="ExitCodes.Ok"/>; <see cref="ExitCodes.Cancelled"/> when stopped by Ctrl+C (also the normal end of
    /// <c>--follow</c>: the state is saved and the summary printed first).</returns>
    internal static async Task<int> RunAsync(HigressIngestSettings settings, string? storeSpec, bool follow, TimeSpan interval, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!follow && !File.Exists(settings.LogPath) && !File.Exists(settings.LogPath + ".1"))
        {
            throw new CliException(ExitCodes.InputError, $"{settings.LogPath}: no such log file (nor {Path.GetFileName(settings.LogPath)}.1); pass the access log that has the ai_log field.");
        }

        var store = StoreLocator.Open(storeSpec, create: true, settings.BatchSize);
        var clock = Stopwatch.StartNew();
        var totals = new IngestCounters();
        try
        {
            var ingester = new HigressIngester(settings, store);
            try
            {
                totals.Add(await FirstPassAsync(ingester, error, cancellationToken).ConfigureAwait(false));
                if (!follow)
                {
                    await output.WriteLineAsync("ingest higress: " + totals.Describe(clock.Elapsed)).ConfigureAwait(false);
                    return ExitCodes.Ok;
                }

                await output.WriteLineAsync($"ingest higress: {totals.Describe(clock.Elapsed)}; following {settings.LogPath} every {Describe(interval)} (Ctrl+C to stop)").ConfigureAwait(false);
                while (true)
                {
                    await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                    var pass = await ingester.RunOnceAsync(null, cancellationToken).ConfigureAwait(false);
                    totals.Add(pass);
                    if (pass.LinesRead > 0)
                    {
                        var at = DateTimeOffset.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"{at} +{pass.LinesRead:N0} lines, +{pass.RecordsWritten:N0} records, {pass.Duplicates:N0} duplicates, {pass.Malformed:N0} malformed ({string.Join(", ", pass.Files.Select(Path.GetFileName))})")).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await output.WriteLineAsync($"ingest higress: stopped; state saved to {settings.StatePath}. {totals.Describe(clock.Elapsed)}").ConfigureAwait(false);
                return ExitCodes.Cancelled;
            }
        }
        finally
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The catch-up pass, with a progress bar when stderr is a terminal (quiet in pipes, files and tests).</summary>
    private static async Task<IngestCounters> FirstPassAsync(HigressIngester ingester, TextWriter error, CancellationToken cancellationToken)
    {
        if (Console.IsErrorRedirected || !ReferenceEquals(error, Console.Error))
        {
            return await ingester.RunOnceAsync(null, cancellationToken).ConfigureAwait(false);
        }

        var pending = ingester.PendingBytes();
        if (pending < 8 << 20)
        {
            return await ingester.RunOnceAsync(null, cancellationToken).ConfigureAwait(false);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        IngestCounters? result = null;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("ingest higress", maxValue: pending);
                result = await ingester.RunOnceAsync(new BarProgress(task), cancellationToken).ConfigureAwait(false);
                task.Value = pending;
            }).ConfigureAwait(false);
        return result!;
    }

    /// <summary>Sets the bar directly (System.Progress would post to a synchronisation context).</summary>
    private sealed class BarProgress(ProgressTask task) : IProgress<long>
    {
        public void Report(long value) => task.Value = value;
    }

    /// <summary>500ms, 1s, 2m, 1h, or a plain number of seconds; at least 10 ms.</summary>
    internal static TimeSpan ParseInterval(string text)
    {
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600),
            _ => (text, 1),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value * scale < 0.01 || value * scale > 86400)
        {
            throw new CliException(ExitCodes.Usage, $"--interval '{text}': give a duration between 10ms and 24h, e.g. 500ms, 1s or 2m.");
        }

        return TimeSpan.FromSeconds(value * scale);
    }

    private static string Describe(TimeSpan interval) =>
        interval.TotalSeconds >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{interval.TotalSeconds:0.###}s") : string.Create(CultureInfo.InvariantCulture, $"{interval.TotalMilliseconds:0}ms");
}

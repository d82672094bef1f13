using System.CommandLine;
using System.IO;
using System.Threading.Tasks;
using TokenMetrics.Cli.Commands;

namespace TokenMetrics.Cli;

/// <summary>The command line: parses, runs the command, and turns every failure into one line on stderr and an exit code
/// (<see cref="ExitCodes"/>); no stack trace ever reaches the user.</summary>
internal static class CliApp
{
    public static RootCommand CreateRoot() => new("TokenMetrics command-line tools.")
    {
        CountCommand.Create(),
        ExtractCommand.Create(),
        PricesCommand.Create(),
        ReportCommand.Create(),
        SessionsCommand.Create(),
        IngestCommand.Create(),
    };

    /// <summary>Set to 1, the process reports its peak working set on stderr at exit (how the tests check bounded memory).</summary>
    public const string StatsVariable = "TOKENMETRICS_CLI_STATS";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var code = await RunCoreAsync(args, output, error).ConfigureAwait(false);
        if (Environment.GetEnvironmentVariable(StatsVariable) == "1")
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            await error.WriteLineAsync($"tokenmetrics-stats: peak_working_set_bytes={self.PeakWorkingSet64}").ConfigureAwait(false);
        }

        return code;
    }

    private static async Task<int> RunCoreAsync(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            var parse = CreateRoot().Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var problem in parse.Errors)
                {
                    await error.WriteLineAsync($"tokenmetrics: {OneLine.Of(problem.Message)}").ConfigureAwait(false);
                }

                await error.WriteLineAsync("Run 'tokenmetrics --help' for usage.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"tokenmetrics: {OneLine.Of(ex.Message)}").ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("tokenmetrics: cancelled").ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"tokenmetrics: cannot read the input: {OneLine.Of(ex.Message)}").ConfigureAwait(false);
            return ExitCodes.InputError;
        }
        catch (Exception ex)
        {
            // A bug: still one line, and a code of its own so scripts can tell it from a bad input.
            await error.WriteLineAsync($"tokenmetrics: unexpected error ({OneLine.Of(ex)}); please report it.").ConfigureAwait(false);
            return ExitCodes.Internal;
        }
    }
}

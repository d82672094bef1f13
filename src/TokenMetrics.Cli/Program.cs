using System.CommandLine;
using TokenMetrics.Cli.Commands;

var root = new RootCommand("TokenMetrics command-line tools.")
{
    CountCommand.Create(),
    ExtractCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

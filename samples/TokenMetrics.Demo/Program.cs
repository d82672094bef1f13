// The TokenMetrics demo. No keys, no network: an embedded mock LLM server on 127.0.0.1 answers in the vendors' wire formats.
//   dotnet run --project samples/TokenMetrics.Demo                  the dashboard on http://127.0.0.1:5088/tokenmetrics/ with a live load
//   dotnet run --project samples/TokenMetrics.Demo -- --once        scripted calls, a table of their records, exit
// Options: --port N, --token T, --data DIR, --rate R, --history-days N (see DemoOptions).
using TokenMetrics.Demo;

var (options, error) = DemoOptions.Parse(args);
if (error is not null)
{
    var help = error.Length == 0;
    (help ? Console.Out : Console.Error).WriteLine(help ? DemoOptions.Usage : error + Environment.NewLine + DemoOptions.Usage);
    return help ? 0 : 2;
}

return options.Once ? await ScriptedCalls.RunAsync(options) : await DashboardHost.RunAsync(options);

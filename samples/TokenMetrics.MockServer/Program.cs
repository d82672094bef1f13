// Runs the TokenMetrics mock LLM server on 127.0.0.1 until Ctrl+C.
//   dotnet run --project samples/TokenMetrics.MockServer -- --port 5055
using System.Globalization;
using TokenMetrics.Testing;

var port = 0;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] is "--port" or "-p" && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
    {
        port = parsed;
        i++;
    }
    else if (args[i] is "--help" or "-h")
    {
        Console.WriteLine("Usage: TokenMetrics.MockServer [--port <port>]   (default: a free port)");
        return 0;
    }
    else
    {
        Console.Error.WriteLine($"Unknown argument '{args[i]}'. Use --help.");
        return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

await using var server = await MockLlmServer.StartAsync(new MockLlmServerOptions { Port = port });
Console.WriteLine($"Mock LLM server listening on {server.BaseAddress}");
Console.WriteLine($"  OpenAI endpoint: {new Uri(server.BaseAddress, "v1")}");
Console.WriteLine("  Try: curl -s " + new Uri(server.BaseAddress, "v1/chat/completions") + " -H 'content-type: application/json' -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'");
Console.WriteLine("Press Ctrl+C to stop.");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

Console.WriteLine($"Stopping after {server.Requests.Count} request(s).");
return 0;

using System.Globalization;
using TokenMetrics.Budgets.Redis;

// usage: LoadClient <connection string> <counter key> <amount> <limit> <window ms> <callers> <calls per caller>
// Prints READY once connected, waits for a line on stdin (so several processes start together), then prints
// "RESULT allowed=N denied=N failed=N".
if (args.Length != 7)
{
    Console.Error.WriteLine("usage: LoadClient <connection> <key> <amount> <limit> <windowMs> <callers> <callsPerCaller>");
    return 2;
}

var key = args[1];
var amount = long.Parse(args[2], CultureInfo.InvariantCulture);
var limit = long.Parse(args[3], CultureInfo.InvariantCulture);
var window = TimeSpan.FromMilliseconds(long.Parse(args[4], CultureInfo.InvariantCulture));
var callers = int.Parse(args[5], CultureInfo.InvariantCulture);
var calls = int.Parse(args[6], CultureInfo.InvariantCulture);

await using var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions
{
    ConnectionString = args[0],
    OperationTimeout = TimeSpan.FromSeconds(10), // a loaded test machine; this process tests atomicity, not timeouts
});

// Warm up the connection and the script cache on another counter.
await store.TryConsumeAsync(key + ":warmup", 0, 1, window, CancellationToken.None);
Console.WriteLine("READY");
await Console.In.ReadLineAsync();

long allowed = 0, denied = 0, failed = 0;
var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
{
    for (var i = 0; i < calls; i++)
    {
        try
        {
            var check = await store.TryConsumeAsync(key, amount, limit, window, CancellationToken.None);
            Interlocked.Increment(ref check.Allowed ? ref allowed : ref denied);
        }
        catch (RedisBudgetStoreException)
        {
            Interlocked.Increment(ref failed);
        }
    }
})).ToArray();
await Task.WhenAll(tasks);
Console.WriteLine($"RESULT allowed={allowed} denied={denied} failed={failed}");
return 0;

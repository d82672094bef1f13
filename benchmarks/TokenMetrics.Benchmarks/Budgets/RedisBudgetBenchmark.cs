using BenchmarkDotNet.Attributes;
using StackExchange.Redis;
using TokenMetrics.Budgets.Redis;
using TokenMetrics.Budgets.Redis.Tests;

namespace TokenMetrics.Benchmarks.Budgets;

/// <summary>One budget check against Redis on 127.0.0.1: <see cref="RedisTokenUsageBudgetStore.TryConsumeAsync"/> is one round
/// trip (one Lua script). The baseline is a bare PING on the same connection, the network floor. Uses a private
/// redis-server started like the tests start it; when the binary is missing, setup fails with a message saying so and
/// the other benchmarks still run.</summary>
[MemoryDiagnoser]
public class RedisBudgetBenchmark
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private RedisTestServer? _server;
    private ConnectionMultiplexer _connection = null!;
    private RedisTokenUsageBudgetStore _store = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (RedisTestServer.FindBinary() is null)
        {
            Console.WriteLine("RedisBudgetBenchmark skipped: redis-server is not installed (apt-get install redis-server).");
            throw new InvalidOperationException("RedisBudgetBenchmark skipped: redis-server is not installed.");
        }

        _server = RedisTestServer.StartAsync().GetAwaiter().GetResult();
        _connection = ConnectionMultiplexer.Connect(_server.ConnectionString);
        _store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { Connection = _connection, OperationTimeout = TimeSpan.FromSeconds(5) });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        _connection?.Dispose();
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "PING round trip (network floor)")]
    public Task<TimeSpan> Ping() => _connection.GetDatabase().PingAsync();

    [Benchmark(Description = "TryConsumeAsync, per-minute token budget (allowed)")]
    public async Task<bool> TryConsume()
        => (await _store.TryConsumeAsync("tpm:user:bench", 1, long.MaxValue / 2, Minute, CancellationToken.None)).Allowed;

    [Benchmark(Description = "AddAsync, reconcile (-1)")]
    public async Task Reconcile() => await _store.AddAsync("tpm:user:bench", -1, Minute, CancellationToken.None);
}

using BenchmarkDotNet.Attributes;
using TokenMetrics.Storage.PostgreSql;
using TokenMetrics.Storage.Tests;

namespace TokenMetrics.Benchmarks.Storage;

/// <summary>PostgreSQL batched insert rate (binary COPY + ON CONFLICT) against a private local server started like the
/// storage tests start it: one op = one record, so records/s = 1 s / Mean.</summary>
[MemoryDiagnoser]
public class PostgreSqlInsertBenchmark
{
    private const int Batch = 1000;
    private PostgreSqlTestServer _server = null!;
    private PostgreSqlTokenUsageStore _store = null!;
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        _server = PostgreSqlTestServer.StartAsync().GetAwaiter().GetResult();
        _store = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = _server.ConnectionString, BatchSize = Batch });
        _store.InitializeAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "PostgreSQL WriteAsync, batch of 1000 (per record)")]
    public async Task<int> InsertBatch()
    {
        var batch = new TokenUsageRecord[Batch];
        for (var i = 0; i < Batch; i++)
        {
            batch[i] = StorageBenchmarkData.Record(_next++, TimeSpan.FromDays(90));
        }

        return await _store.WriteAsync(batch, CancellationToken.None);
    }
}

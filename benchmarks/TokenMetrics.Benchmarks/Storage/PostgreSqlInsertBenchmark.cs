using BenchmarkDotNet.Attributes;
using TokenMetrics.Storage.PostgreSql;
using TokenMetrics.Storage.Tests;

namespace TokenMetrics.Benchmarks.Storage;

/// <summary>PostgreSQL batched insert rate against a private local server started like the storage tests start it: one op =
/// one record, so records/s = 1 s / Mean. Shapes and the two operations as in <see cref="SqliteInsertBenchmark"/>.</summary>
[MemoryDiagnoser]
public class PostgreSqlInsertBenchmark
{
    private const int Batch = 1000;
    private PostgreSqlTestServer _server = null!;
    private PostgreSqlTokenUsageStore _store = null!;
    private long _next;

    /// <summary>Gets or sets the data shape.</summary>
    [Params(StorageBenchmarkData.Sparse, StorageBenchmarkData.Dense)]
    public string Shape { get; set; } = StorageBenchmarkData.Sparse;

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
        StorageBenchmarkData.HoldFold(_store, true);
        return await _store.WriteAsync(StorageBenchmarkData.Batch(ref _next, Batch, Shape), CancellationToken.None);
    }

    [Benchmark(OperationsPerInvoke = StorageBenchmarkData.SustainedRecords, Description = "PostgreSQL sustained: 10 x WriteAsync(1000) + fold (per record)")]
    public Task<int> InsertSustained()
    {
        var first = _next;
        _next += StorageBenchmarkData.SustainedRecords;
        return StorageBenchmarkData.WriteSustainedAsync(_store, first, Batch, Shape);
    }
}

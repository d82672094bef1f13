using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Benchmarks.Storage;

/// <summary>SQLite batched insert rate: one op = one record (OperationsPerInvoke), so records/s = 1 s / Mean. Two data shapes
/// (<see cref="StorageBenchmarkData.Shapes"/>): records spread over 90 days (every record of a batch opens its own user and
/// session rollup rows: the rollup's worst case) and records 1 ms apart (what a store taking 100,000 records/s sees).
/// <c>WriteAsync</c> measures the write alone (the rollup fold held back, where the store has one); <c>sustained</c> writes
/// <see cref="StorageBenchmarkData.SustainedRecords"/> records with the store's own fold threshold, so each op includes the fold
/// of everything it wrote.</summary>
[MemoryDiagnoser]
public class SqliteInsertBenchmark
{
    private const int Batch = 1000;
    private string _dir = null!;
    private SqliteTokenUsageStore _store = null!;
    private long _next;

    /// <summary>Gets or sets the data shape.</summary>
    [Params(StorageBenchmarkData.Sparse, StorageBenchmarkData.Dense)]
    public string Shape { get; set; } = StorageBenchmarkData.Sparse;

    [GlobalSetup]
    public void Setup()
    {
        _dir = StorageBenchmarkData.TempDirectory("sqlite-insert");
        _store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Path.Combine(_dir, "usage.db"), BatchSize = Batch });
        _store.InitializeAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "SQLite WriteAsync, batch of 1000 (per record)")]
    public async Task<int> InsertBatch()
    {
        StorageBenchmarkData.HoldFold(_store, true);
        return await _store.WriteAsync(StorageBenchmarkData.Batch(ref _next, Batch, Shape), CancellationToken.None);
    }

    /// <summary>What the two benchmarks above spend building their records (both stores' insert benchmarks build them the same
    /// way), to be subtracted for the store's own rate.</summary>
    /// <returns>The batch.</returns>
    [Benchmark(OperationsPerInvoke = Batch, Description = "building the batch of 1000 alone (per record; in every row above)")]
    public TokenUsageRecord[] BuildBatch() => StorageBenchmarkData.Batch(ref _next, Batch, Shape);

    [Benchmark(OperationsPerInvoke = StorageBenchmarkData.SustainedRecords, Description = "SQLite sustained: 10 x WriteAsync(1000) + fold (per record)")]
    public Task<int> InsertSustained()
    {
        var first = _next;
        _next += StorageBenchmarkData.SustainedRecords;
        return StorageBenchmarkData.WriteSustainedAsync(_store, first, Batch, Shape);
    }
}

/// <summary>The FinOps breakdown (tokens by model and UTC day) over 1,000,000 SQLite records built once in GlobalSetup,
/// plus a breakdown the daily rollup cannot answer (a full scan) for comparison.</summary>
[MemoryDiagnoser]
public class SqliteBreakdownQueryBenchmark
{
    private const int Rows = 1_000_000;
    private string _dir = null!;
    private SqliteTokenUsageStore _store = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = StorageBenchmarkData.TempDirectory("sqlite-query");
        _store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Path.Combine(_dir, "usage.db"), BatchSize = 10_000 });
        var batch = new TokenUsageRecord[10_000];
        for (var start = 0; start < Rows; start += batch.Length)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = StorageBenchmarkData.Record(start + i, TimeSpan.FromDays(90));
            }

            _store.WriteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        var check = ByModelAndDay().GetAwaiter().GetResult();
        if (check.Sum(r => r.Calls) != Rows)
        {
            throw new InvalidOperationException("The breakdown does not cover every record.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "By model and day, 1M records (90 days, 20 models; daily rollup)")]
    public async Task<IReadOnlyList<TokenUsageAggregate>> ByModelAndDay() =>
        await _store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, Bucket = TokenUsageTimeBucket.Day, Limit = TokenUsageFilter.MaxLimit }, CancellationToken.None);

    [Benchmark(Description = "By model and day, last 7 of 90 days")]
    public async Task<IReadOnlyList<TokenUsageAggregate>> ByModelAndDayLastWeek() =>
        await _store.AggregateAsync(new TokenUsageAggregateQuery
        {
            GroupBy = TokenUsageDimensions.Model,
            Bucket = TokenUsageTimeBucket.Day,
            From = StorageBenchmarkData.Start.AddDays(83),
            Limit = TokenUsageFilter.MaxLimit,
        }, CancellationToken.None);

    [Benchmark(Description = "By consumer and day, 1M records (full scan, no rollup)")]
    public async Task<IReadOnlyList<TokenUsageAggregate>> ByConsumerAndDayScan() =>
        await _store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Consumer, Bucket = TokenUsageTimeBucket.Day, Limit = TokenUsageFilter.MaxLimit }, CancellationToken.None);

    [Benchmark(Description = "Newest page of 100, one user")]
    public async Task<TokenUsagePage> PageForUser() =>
        await _store.QueryAsync(new TokenUsageQuery { UserId = "user-42", Limit = 100 }, CancellationToken.None);
}

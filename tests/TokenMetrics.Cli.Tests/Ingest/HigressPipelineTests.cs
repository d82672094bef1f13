using System.Collections.Concurrent;
using System.Text;
using TokenMetrics.Cli.Ingest;

namespace TokenMetrics.Cli.Tests.Ingest;

/// <summary>The ingest pipeline (the store writes one batch while the next is parsed) and the parser's shared strings and tag
/// maps: a failed write never moves the state past its lines, and sharing never leaks one line's tags into another.</summary>
public sealed class HigressPipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tm-pipeline-").FullName;

    private string Log => Path.Combine(_dir, "access.log");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_failed_write_keeps_the_state_before_its_batch_and_a_rerun_stores_every_line_exactly_once()
    {
        await File.WriteAllLinesAsync(Log, Enumerable.Range(0, 10).Select(HigressFixtures.RotationLine));
        var settings = new HigressIngestSettings { LogPath = Log, StatePath = Log + ".state", BatchSize = 3 };
        var store = new KeyedStore { FailOnWrite = 2 };

        var failure = await Assert.ThrowsAsync<IOException>(() => new HigressIngester(settings, store).RunOnceAsync(null, CancellationToken.None));
        Assert.Equal("write 2 failed", failure.Message);
        Assert.Equal(3, store.Records.Count); // the first batch only

        store.FailOnWrite = 0;
        var rerun = await new HigressIngester(settings, store).RunOnceAsync(null, CancellationToken.None);

        // The state covered the first batch alone: the rerun reads the 7 lines after it, and the store ends with all 10, once.
        Assert.Equal(7, rerun.LinesRead);
        Assert.Equal(7, rerun.RecordsWritten);
        Assert.Equal(10, store.Records.Count);
        Assert.Equal(10, store.Written);
        var third = await new HigressIngester(settings, store).RunOnceAsync(null, CancellationToken.None);
        Assert.Equal(0, third.LinesRead);
    }

    [Fact]
    public async Task Batches_written_while_the_next_is_parsed_all_arrive_in_order_with_the_state_at_the_end()
    {
        await File.WriteAllLinesAsync(Log, Enumerable.Range(0, 100).Select(HigressFixtures.RotationLine));
        var settings = new HigressIngestSettings { LogPath = Log, StatePath = Log + ".state", BatchSize = 7 };
        var store = new KeyedStore { Delay = TimeSpan.FromMilliseconds(2) };

        var counters = await new HigressIngester(settings, store).RunOnceAsync(null, CancellationToken.None);

        Assert.Equal(100, counters.RecordsWritten);
        Assert.Equal(100, store.Records.Count);
        Assert.Equal(15, store.Batches); // ceil(100 / 7)
        Assert.Equal(1, store.MaxConcurrentWrites);
        var state = IngestState.Load(settings.StatePath);
        Assert.Equal(new FileInfo(Log).Length, Assert.Single(state.Files).Value.Offset);
    }

    [Fact]
    public void Lines_share_strings_and_tag_maps_but_never_one_lines_own_tags()
    {
        var parser = new HigressLineParser(TokenUsagePriceCatalog.Default, captureContent: false);
        var now = DateTimeOffset.UtcNow;
        var lines = HigressFixtures.AccessLog.Select(Encoding.UTF8.GetBytes).ToArray();
        var records = lines.Select((line, i) => Assert.IsType<TokenUsageRecord>(Parse(parser, line, i, now))).ToArray();

        // Fixture lines 0 (asks for a tool), 1 and 2 are Qwen3-rerank rounds through one route.
        Assert.Equal("1", records[0].Tags!["higress.tool_calls"]);
        Assert.False(records[1].Tags!.ContainsKey("higress.tool_calls"));
        Assert.Same(records[1].Tags, records[2].Tags);
        Assert.Equal(records[0].Tags!["higress.api"], records[1].Tags!["higress.api"]);
        Assert.Same(records[1].RequestModel, records[2].RequestModel);

        // The same line again gets the same id, and a record built after a tag-carrying line is unaffected by it.
        var again = Assert.IsType<TokenUsageRecord>(Parse(parser, lines[1], 1, now));
        Assert.Equal(records[1].Id, again.Id);
        Assert.Equal(records[1].Tags!.OrderBy(t => t.Key), again.Tags!.OrderBy(t => t.Key));
    }

    private static TokenUsageRecord? Parse(HigressLineParser parser, byte[] line, long offset, DateTimeOffset now) =>
        parser.TryParse(line, offset, now, out var record, out var problem) ? record : throw new InvalidOperationException(problem);

    /// <summary>Keeps records by id (a store ignores ids it has), counts writes, fails the Nth write when asked.</summary>
    private sealed class KeyedStore : ITokenUsageStore
    {
        private int _writes;
        private int _inFlight;

        public ConcurrentDictionary<Guid, TokenUsageRecord> Records { get; } = new();

        public int FailOnWrite { get; set; }

        public TimeSpan Delay { get; init; }

        public int Written;

        public int Batches => _writes;

        public int MaxConcurrentWrites { get; private set; }

        public async ValueTask<int> WriteAsync(IReadOnlyList<TokenUsageRecord> records, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _writes);
            var inFlight = Interlocked.Increment(ref _inFlight);
            MaxConcurrentWrites = Math.Max(MaxConcurrentWrites, inFlight);
            try
            {
                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, cancellationToken);
                }

                if (n == FailOnWrite)
                {
                    throw new IOException($"write {n} failed");
                }

                var added = records.Count(r => Records.TryAdd(r.Id, r));
                Interlocked.Add(ref Written, added);
                return added;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public ValueTask<TokenUsagePage> QueryAsync(TokenUsageQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(TokenUsageAggregateQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(TokenUsageSessionQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

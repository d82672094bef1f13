using System.Collections;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>A no-op exporter that counts what it is given and can wake a waiter once a count is reached, so a benchmark op can end
/// only after its records have gone all the way through the pipeline (the export lane's work counted, not escaped).</summary>
internal sealed class SignallingExporter : ITokenUsageExporter
{
    private long _exported;
    private long _target = long.MaxValue;
    private TaskCompletionSource? _waiter;

    /// <summary>Gets the records exported so far.</summary>
    public long Exported => Interlocked.Read(ref _exported);

    /// <summary>Gets the last record exported (the setups check it says what the payload reported).</summary>
    public TokenUsageRecord? Last { get; private set; }

    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        if (batch.Count > 0)
        {
            Last = batch[^1];
        }

        var total = Interlocked.Add(ref _exported, batch.Count);
        if (total >= Volatile.Read(ref _target))
        {
            Volatile.Read(ref _waiter)?.TrySetResult();
        }

        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }

    /// <summary>Completes when <paramref name="target"/> records have been exported in all.</summary>
    public Task WaitForAsync(long target)
    {
        // One task per wait (per 512 calls): its continuation runs on the pool, not inline on the export lane.
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);
        Interlocked.Exchange(ref _target, target);
        if (Interlocked.Read(ref _exported) >= target)
        {
            waiter.TrySetResult();
        }

        return waiter.Task;
    }

    /// <summary>Completes when <paramref name="target"/> records have been exported here and every other lane of
    /// <paramref name="recorder"/> has caught up too (the meter exporter's lane works beside this one).</summary>
    public async Task WaitForPipelineAsync(long target, TokenUsageRecorder recorder)
    {
        await WaitForAsync(target);

        // Polled without allocating: GetStatistics() builds a snapshot per call, and MemoryDiagnoser would count every spin's
        // snapshot as the pipeline's bytes (it did, up to issue 16's fifth pass).
        while (recorder.QueuedRecords > 0)
        {
            await Task.Yield();
        }
    }
}

/// <summary>An in-memory exporter's collection that keeps nothing (a benchmark makes millions of spans) but counts, and lets a
/// check look at an item while it is valid (an exported <see cref="Metric"/> is valid only during the export).</summary>
internal sealed class CountingCollection<T> : ICollection<T>
{
    private long _count;

    public Action<T>? Inspect { get; set; }

    public long Added => Interlocked.Read(ref _count);

    public int Count => (int)Math.Min(int.MaxValue, Added);

    public bool IsReadOnly => false;

    public void Add(T item)
    {
        Interlocked.Increment(ref _count);
        Inspect?.Invoke(item);
    }

    public void Clear()
    {
    }

    public bool Contains(T item) => false;

    public void CopyTo(T[] array, int arrayIndex)
    {
    }

    public bool Remove(T item) => false;

    public IEnumerator<T> GetEnumerator() => Enumerable.Empty<T>().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>What an app adds to trace and measure its HttpClient calls with OpenTelemetry: a tracer provider and a meter provider,
/// each with <c>AddHttpClientInstrumentation()</c>, exporting in memory. <see cref="Verify"/> proves after a call that the span
/// was sampled and exported and the duration histogram recorded, so the peer cannot silently measure nothing.</summary>
internal sealed class OpenTelemetryPeer : IDisposable
{
    private readonly CountingCollection<Activity> _spans = new();
    private readonly CountingCollection<Metric> _metrics = new();
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;
    private Activity? _lastSpan;
    private long _durationCount;

    public OpenTelemetryPeer(params string[] extraSources)
    {
        _spans.Inspect = a => _lastSpan = a;
        _metrics.Inspect = m =>
        {
            if (m.Name is "http.client.request.duration" or "gen_ai.client.operation.duration")
            {
                foreach (ref readonly var point in m.GetMetricPoints())
                {
                    _durationCount += point.GetHistogramCount();
                }
            }
        };
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddHttpClientInstrumentation()
            .AddSource(extraSources)
            .SetSampler(new AlwaysOnSampler())
            .AddInMemoryExporter(_spans)
            .Build();
        _meter = Sdk.CreateMeterProviderBuilder()
            .AddHttpClientInstrumentation()
            .AddMeter(extraSources)
            .AddInMemoryExporter(_metrics)
            .Build();
    }

    /// <summary>Throws unless a span has been exported (recorded, of <paramref name="expectedSource"/>) and the duration histogram counted calls.</summary>
    public void Verify(string expectedSource)
    {
        if (!_meter.ForceFlush(10_000) || !_tracer.ForceFlush(10_000))
        {
            throw new InvalidOperationException("OpenTelemetry did not flush.");
        }

        if (_spans.Added == 0 || _lastSpan is not { Recorded: true } span || span.Source.Name != expectedSource)
        {
            throw new InvalidOperationException($"OpenTelemetry exported no recorded span from {expectedSource} (spans: {_spans.Added}, last: {_lastSpan?.Source.Name}/{_lastSpan?.OperationName}).");
        }

        if (_durationCount == 0)
        {
            throw new InvalidOperationException($"OpenTelemetry recorded no duration histogram (metrics exported: {_metrics.Added}).");
        }

        Console.WriteLine($"// OpenTelemetry check: {_spans.Added} span(s) exported, last '{span.OperationName}' from '{span.Source.Name}' (recorded), duration histogram count {_durationCount}.");
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }
}

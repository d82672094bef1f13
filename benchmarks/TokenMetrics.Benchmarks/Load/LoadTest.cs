using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Benchmarks.Http;

namespace TokenMetrics.Benchmarks.Load;

/// <summary>Issue 16, item 3: throughput under load. N concurrent callers make M calls through <see cref="TokenMetricsHandler"/> into
/// the default pipeline writing to the SQLite store (<c>AddTokenMetrics().AddSqliteStore()</c>, with a spool so a store that cannot
/// keep up spills instead of dropping), over the in-memory transport of the peer benchmark; the same callers and calls run bare first.
/// Prints a markdown report: caller-side latency percentiles (bare, metered, overhead), wall time and calls/s, the GC heap and
/// working set before, during (sampled) and after, the pipeline's counters, and the records counted in the store after the drain.</summary>
/// <remarks>A load test, not a benchmark: one run, wall clock, on whatever else the machine is doing (the report says the load
/// average). Latencies are taken with <see cref="Stopwatch.GetTimestamp"/> into a preallocated array: the measuring allocates nothing.</remarks>
internal static class LoadTest
{
    private sealed record Settings(long Calls, int Callers, int Warmup, TimeSpan DrainTimeout, PeerVendor Vendor, PeerShape Shape, bool Sqlite, bool DropReasons, string? Out, double Rate = 0);

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = Parse(args);
        var call = PeerPayloads.Create(settings.Vendor, settings.Shape);
        var report = new StringBuilder();
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.WriteLine($"Load test: {settings.Calls:N0} calls, {settings.Callers} callers, rate {(settings.Rate > 0 ? settings.Rate.ToString("N0", CultureInfo.InvariantCulture) : "unpaced")}, {settings.Vendor} {settings.Shape} ({call.Response.Length:N0} B response); load average at start: {load}");

        // Blocking-free callers (the transport completes synchronously) each hold a pool thread: give the pool enough of them up
        // front, for the callers and for the pipeline's own work, instead of waiting for thread injection.
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, settings.Callers + 8), minIo);

        // Bare.
        var bare = new Phase("bare", settings.Calls);
        using (var client = new HttpClient(InMemoryTransport.CreateHandler(call.Response, call.MediaType)))
        {
            await RunCallersAsync(client, call, settings, settings.Warmup, latencies: null);
            bare.Before = MemorySample.AfterFullCollect();
            using var sampler = new MemorySampler();
            bare.Wall = await RunCallersAsync(client, call, settings, settings.Calls, bare.Latencies);
            bare.During = sampler.Stop();
            bare.After = MemorySample.AfterFullCollect();
        }

        Console.WriteLine($"bare: {bare.Wall.TotalSeconds:F1} s, p99 {Us(bare.Percentile(0.99)):F1} µs");

        // Metered: the default pipeline into SQLite.
        var dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-load-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var metered = new Phase("metered", settings.Calls);
        TokenMetricsStatistics stats;
        long stored;
        TimeSpan drain;
        bool drained;
        var dbPath = Path.Combine(dir, "usage.db");
        var services = new ServiceCollection();
        var builder = services.AddTokenMetrics(o => o.SpoolDirectory = Path.Combine(dir, "spool"))
            .AddAnthropic().AddGemini().AddOpenAI();
        if (settings.Sqlite)
        {
            builder.AddSqliteStore(o => o.DatabasePath = dbPath);
        }

        var provider = services.BuildServiceProvider();
        using var drops = settings.DropReasons ? new DropReasonListener() : null;
        try
        {
            var recorder = provider.GetRequiredService<TokenUsageRecorder>();
            var store = provider.GetService<ITokenUsageStore>();
            using var client = new HttpClient(new TokenMetricsHandler(recorder, provider.GetServices<ITokenUsageProtocol>(), InMemoryTransport.CreateHandler(call.Response, call.MediaType)));
            await RunCallersAsync(client, call, settings, settings.Warmup, latencies: null);
            if (await recorder.FlushAsync(settings.DrainTimeout) != TokenMetricsFlushResult.Success)
            {
                throw new InvalidOperationException("The warm-up records were not delivered.");
            }

            metered.Before = MemorySample.AfterFullCollect();
            using var sampler = new MemorySampler();
            var start = Stopwatch.GetTimestamp();
            metered.Wall = await RunCallersAsync(client, call, settings, settings.Calls, metered.Latencies);
            Console.WriteLine($"metered: calls done in {metered.Wall.TotalSeconds:F1} s, p99 {Us(metered.Percentile(0.99)):F1} µs; draining (at most {settings.DrainTimeout.TotalSeconds:F0} s)...");
            var flush = recorder.FlushAsync(settings.DrainTimeout);
            while (await Task.WhenAny(flush, Task.Delay(TimeSpan.FromSeconds(5))) != flush)
            {
                var s = recorder.GetStatistics();
                var lane = s.Exporters.Values;
                Console.WriteLine($"  {Stopwatch.GetElapsedTime(start).TotalSeconds,6:F1} s: queued {s.Queued:N0}, exported {lane.Sum(e => e.Exported):N0}, spilled {lane.Sum(e => e.Spilled):N0}, replayed {lane.Sum(e => e.Replayed):N0}, dropped {s.Dropped:N0}");
            }

            drained = await flush == TokenMetricsFlushResult.Success;
            drain = Stopwatch.GetElapsedTime(start) - metered.Wall;
            metered.During = sampler.Stop();
            stats = recorder.GetStatistics();
            // Without a store (--store none) the meter exporter's count stands in for it.
            stored = store is null
                ? stats.Exporters.Values.First().Exported + stats.Exporters.Values.First().Replayed
                : (await store.QueryAsync(new TokenUsageQuery { Limit = 1 }, CancellationToken.None)).Total;
            metered.After = MemorySample.AfterFullCollect();
        }
        finally
        {
            await provider.DisposeAsync();
        }

        var expected = settings.Calls + settings.Warmup;
        Write(report, settings, call, load, bare, metered, stats, stored, expected, drained, drain);
        if (drops is not null)
        {
            report.AppendLine();
            report.AppendLine("## Drop reasons (`--drop-reasons true`: TokenMetrics' event source on, events counted per reason; a \"spool\" event drops a whole batch, a \"queue\" event one record)");
            report.AppendLine();
            foreach (var (reason, count) in drops.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"- {reason}: {count:N0} events");
            }
        }

        var text = report.ToString();
        Console.WriteLine();
        Console.WriteLine(text);
        if (settings.Out is { } path)
        {
            await File.WriteAllTextAsync(path, text);
            Console.WriteLine($"Report written to {path}");
        }

        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return stored == expected ? 0 : 1;
    }

    private static async Task<TimeSpan> RunCallersAsync(HttpClient client, PeerCall call, Settings settings, long calls, long[]? latencies)
    {
        var tasks = new Task[settings.Callers];
        var start = Stopwatch.GetTimestamp();
        for (var c = 0; c < settings.Callers; c++)
        {
            var from = calls * c / settings.Callers;
            var to = calls * (c + 1) / settings.Callers;
            // Paced (--rate): caller c's k-th call is due at start + k / (rate / callers); a caller ahead of its schedule waits, one
            // behind calls at once (open loop, as requests arrive from users; 0 = closed loop, every caller as fast as it can).
            // The warm-up is paced too: an unpaced burst of 20,000 calls overflows the default queues (see the closed-loop runs).
            var interval = settings.Rate > 0 ? Stopwatch.Frequency * settings.Callers / settings.Rate : 0;
            tasks[c] = Task.Run(() => CallerAsync(client, call, from, to, latencies, start, interval));
        }

        await Task.WhenAll(tasks);
        return Stopwatch.GetElapsedTime(start);
    }

    private static async Task CallerAsync(HttpClient client, PeerCall call, long from, long to, long[]? latencies, long start, double interval)
    {
        var buffer = new byte[16 * 1024];
        for (var i = from; i < to; i++)
        {
            if (interval > 0)
            {
                var due = start + (long)((i - from) * interval);
                var ahead = due - Stopwatch.GetTimestamp();
                if (ahead > Stopwatch.Frequency / 500)
                {
                    // More than 2 ms early: sleep (the timer's granularity is about 1 ms); nearer than that, call now.
                    await Task.Delay(TimeSpan.FromTicks(ahead * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                }
            }

            var t0 = Stopwatch.GetTimestamp();
            using (var request = new HttpRequestMessage(HttpMethod.Post, call.Url) { Content = new ByteArrayContent(call.Request) })
            {
                request.Content.Headers.ContentType = new("application/json");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await using var stream = await response.Content.ReadAsStreamAsync();
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            }

            if (latencies is not null)
            {
                latencies[i] = Stopwatch.GetTimestamp() - t0;
            }
        }
    }

    private static void Write(StringBuilder r, Settings s, PeerCall call, string load, Phase bare, Phase metered, TokenMetricsStatistics stats, long stored, long expected, bool drained, TimeSpan drain)
    {
        var inv = CultureInfo.InvariantCulture;
        r.AppendLine(inv, $"# Load test (issue 16, item 3): {s.Calls:N0} calls, {s.Callers} callers, {(s.Rate > 0 ? $"offered at {s.Rate:N0} calls/s (open loop)" : "each as fast as it can (closed loop)")}");
        r.AppendLine();
        r.AppendLine(inv, $"`dotnet run -c Release --project benchmarks/TokenMetrics.Benchmarks -- --load-test --calls {s.Calls} --callers {s.Callers}{(s.Sqlite ? string.Empty : " --store none")}{(s.Vendor == PeerVendor.OpenAI && s.Shape == PeerShape.Json300B ? string.Empty : $" --vendor {s.Vendor} --shape {s.Shape}")}` — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC; load average at start `{load}`, at end `{(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}`.");
        r.AppendLine();
        var metering = s.Sqlite
            ? "Metered = `TokenMetricsHandler` into `AddTokenMetrics(o => o.SpoolDirectory = …).AddSqliteStore(…)` (default options otherwise: the meter exporter and the SQLite store, each its own lane)."
            : "Metered = `TokenMetricsHandler` into `AddTokenMetrics(o => o.SpoolDirectory = …)` with no store (`--store none`: the meter exporter only; \"delivered\" below is what that exporter received).";
        r.AppendLine(inv, $"Each call: {s.Vendor} {s.Shape} ({call.Request.Length} B request, {call.Response.Length:N0} B response) through a SocketsHttpHandler on an in-memory connection (no socket). "
            + $"{metering} {s.Warmup:N0} warm-up calls per phase, not timed (the metered ones are delivered too).");
        r.AppendLine();
        r.AppendLine("## Caller-side latency");
        r.AppendLine();
        r.AppendLine("| | p50 | p90 | p99 | p99.9 | max | mean | wall | calls/s |");
        r.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in new[] { bare, metered })
        {
            r.AppendLine(inv, $"| {p.Name} | {Us(p.Percentile(0.5)):F1} µs | {Us(p.Percentile(0.9)):F1} µs | {Us(p.Percentile(0.99)):F1} µs | {Us(p.Percentile(0.999)):F1} µs | {Us(p.Percentile(1)):F0} µs | {p.MeanUs:F1} µs | {p.Wall.TotalSeconds:F1} s | {s.Calls / p.Wall.TotalSeconds:N0} |");
        }

        r.AppendLine(inv, $"| **overhead** | {Us(metered.Percentile(0.5) - bare.Percentile(0.5)):+0.0;-0.0} µs | {Us(metered.Percentile(0.9) - bare.Percentile(0.9)):+0.0;-0.0} µs | **{Us(metered.Percentile(0.99) - bare.Percentile(0.99)):+0.0;-0.0} µs** | {Us(metered.Percentile(0.999) - bare.Percentile(0.999)):+0.0;-0.0} µs | | {metered.MeanUs - bare.MeanUs:+0.0;-0.0} µs | | |");
        r.AppendLine();
        var p99 = Us(metered.Percentile(0.99) - bare.Percentile(0.99));
        r.AppendLine(inv, $"p99 overhead goal < 20 µs: **{(p99 < 20 ? "met" : "not met")}** ({p99:F1} µs).");
        r.AppendLine();
        r.AppendLine("## Records");
        r.AppendLine();
        r.AppendLine(inv, $"Expected {expected:N0} (calls + warm-up); **{(s.Sqlite ? "in the store" : "delivered")}: {stored:N0}** ({(stored == expected ? "all arrived" : $"{expected - stored:N0} missing")}). "
            + $"Drain after the last call: {drain.TotalSeconds:F1} s ({(drained ? "flush succeeded" : $"flush did not succeed within {s.DrainTimeout.TotalSeconds:F0} s")}); "
            + $"end to end {Math.Max(0, stored - s.Warmup) / (metered.Wall + drain).TotalSeconds:N0} records/s delivered (the timed calls' records over calls + drain).");
        r.AppendLine();
        r.AppendLine(inv, $"Pipeline: received {stats.Received:N0}, filtered {stats.Filtered:N0}, dropped {stats.Dropped:N0}, queued {stats.Queued:N0}, internal errors {stats.InternalErrors:N0}.");
        r.AppendLine();
        r.AppendLine("| exporter | enqueued | exported | overflowed | spilled | replayed | dropped | queued | failed batches | spool files |");
        r.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, e) in stats.Exporters)
        {
            r.AppendLine(inv, $"| {name} | {e.Enqueued:N0} | {e.Exported:N0} | {e.Overflowed:N0} | {e.Spilled:N0} | {e.Replayed:N0} | {e.Dropped:N0} | {e.Queued:N0} | {e.FailedBatches:N0} | {e.SpoolFiles:N0} |");
        }

        r.AppendLine();
        r.AppendLine("## Memory");
        r.AppendLine();
        r.AppendLine("GC heap = `GC.GetTotalMemory` (after `GC.Collect` + finalizers for before/after); heap size = `GCMemoryInfo.HeapSizeBytes`; working set = `Environment.WorkingSet`. \"During\" is the largest of samples every 250 ms, over the calls and (metered) the drain.");
        r.AppendLine();
        r.AppendLine("| | GC heap before | GC heap during (max) | GC heap after | heap size during (max) | working set before | working set during (max) | working set after | gen0/1/2 collections |");
        r.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in new[] { bare, metered })
        {
            r.AppendLine(inv, $"| {p.Name} | {Mb(p.Before.Heap)} | {Mb(p.During.MaxHeap)} | {Mb(p.After.Heap)} | {Mb(p.During.MaxHeapSize)} | {Mb(p.Before.WorkingSet)} | {Mb(p.During.MaxWorkingSet)} | {Mb(p.After.WorkingSet)} | "
                + $"{p.After.Gen0 - p.Before.Gen0}/{p.After.Gen1 - p.Before.Gen1}/{p.After.Gen2 - p.Before.Gen2} |");
        }
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture) + " MiB";

    private static double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static Settings Parse(string[] args)
    {
        long calls = 1_000_000;
        var callers = 16;
        var warmup = -1;
        var drain = TimeSpan.FromMinutes(10);
        var vendor = PeerVendor.OpenAI;
        var shape = PeerShape.Json300B;
        string? output = null;
        var sqlite = true;
        var dropReasons = false;
        double rate = 0;
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--calls": calls = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--callers": callers = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--drain-timeout": drain = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--vendor": vendor = Enum.Parse<PeerVendor>(value, ignoreCase: true); break;
                case "--shape": shape = Enum.Parse<PeerShape>(value, ignoreCase: true); break;
                case "--out": output = value; break;
                case "--drop-reasons": dropReasons = bool.Parse(value); break;
                case "--rate": rate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--store": sqlite = value switch { "sqlite" => true, "none" => false, _ => throw new ArgumentException("--store sqlite|none") }; break;
                default: throw new ArgumentException($"Unknown option {args[i]} (--calls N --callers N --warmup N --drain-timeout SECONDS --vendor OpenAI|Anthropic|Gemini --shape Json300B|Json64KB|Sse10|Sse100|Sse1000 --store sqlite|none --drop-reasons true|false --rate CALLS_PER_SECOND --out FILE).");
            }

            i++;
        }

        if (calls < callers || callers < 1)
        {
            throw new ArgumentException("Need at least one call per caller.");
        }

        return new Settings(calls, callers, warmup >= 0 ? warmup : (int)Math.Min(20_000, calls / 10), drain, vendor, shape, sqlite, dropReasons, output, rate);
    }

    private sealed class Phase(string name, long calls)
    {
        private bool _sorted;

        public string Name { get; } = name;

        public long[] Latencies { get; } = new long[calls];

        public TimeSpan Wall { get; set; }

        public MemorySample Before { get; set; }

        public MemorySample After { get; set; }

        public MemoryPeak During { get; set; }

        public double MeanUs => Us((long)Latencies.Average());

        public long Percentile(double p)
        {
            if (!_sorted)
            {
                Array.Sort(Latencies);
                _sorted = true;
            }

            return Latencies[(int)Math.Min(Latencies.Length - 1, Math.Ceiling(p * Latencies.Length) - 1)];
        }
    }

    private readonly record struct MemorySample(long Heap, long WorkingSet, int Gen0, int Gen1, int Gen2)
    {
        public static MemorySample AfterFullCollect()
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            return new(GC.GetTotalMemory(false), Environment.WorkingSet, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        }
    }

    private readonly record struct MemoryPeak(long MaxHeap, long MaxHeapSize, long MaxWorkingSet);

    /// <summary>Samples the heap and working set every 250 ms on its own thread (never on a caller's).</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private long _maxHeap;
        private long _maxHeapSize;
        private long _maxWorkingSet;

        public MemorySampler()
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "memory sampler" };
            _thread.Start();
        }

        public MemoryPeak Stop()
        {
            _stop = true;
            _thread.Join();
            return new(_maxHeap, _maxHeapSize, _maxWorkingSet);
        }

        public void Dispose()
        {
            if (!_stop)
            {
                _ = Stop();
            }
        }

        private void Run()
        {
            while (!_stop)
            {
                _maxHeap = Math.Max(_maxHeap, GC.GetTotalMemory(false));
                _maxHeapSize = Math.Max(_maxHeapSize, GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes);
                _maxWorkingSet = Math.Max(_maxWorkingSet, Environment.WorkingSet);
                Thread.Sleep(250);
            }
        }
    }

    /// <summary>Counts TokenMetrics' <c>RecordDropped</c> events by reason (diagnostics only: enabling the event source makes each
    /// drop format a string, so it is off unless asked for).</summary>
    private sealed class DropReasonListener : System.Diagnostics.Tracing.EventListener
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, long> Counts => _counts;

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
        {
            if (eventSource.Name == "TokenMetrics")
            {
                EnableEvents(eventSource, System.Diagnostics.Tracing.EventLevel.Warning);
            }
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "RecordDropped" && eventData.Payload is [string reason, ..])
            {
                _counts.AddOrUpdate(reason, 1, static (_, n) => n + 1);
            }
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.PostgreSql;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Benchmarks.Storage;

/// <summary>The dashboard's queries (issue 14) over 1,000,000 stored records, SQLite and PostgreSQL, reading the rollup
/// (schema 4) or scanning the records (the same queries with the rollup switched off: what every query did before).</summary>
/// <remarks>The data (30 days, 20 models, 500 users, 50 consumers, 100,000 sessions of 10 rounds) is generated once and cached
/// under <c>/tmp/tokenmetrics-bench-dashboard-v6/</c> (a SQLite file and a PostgreSQL data directory), so later runs and
/// BenchmarkDotNet's per-benchmark processes only open it. Delete that directory to regenerate.</remarks>
[MemoryDiagnoser]
public class DashboardQueryBenchmark
{
    private const int Rows = 1_000_000;
    // TM_BENCH_DASHBOARD_DIR points a run at a copy (e.g. one migrated to a newer schema while the original stays for before/after runs).
    private static readonly string Root = Environment.GetEnvironmentVariable("TM_BENCH_DASHBOARD_DIR") is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "tokenmetrics-bench-dashboard-v6");
    private static readonly DateTimeOffset End = DashboardData.Start.AddDays(30);

    private ITokenUsageStore _store = null!;
    private CachedPostgres? _postgres;
    private DateTimeOffset _from;
    private string _session = null!;

    /// <summary>Gets or sets the store.</summary>
    [Params("SQLite", "PostgreSQL")]
    public string Store { get; set; } = "SQLite";

    /// <summary>Gets or sets whether queries may read the rollup (false: the record scan of before).</summary>
    [ParamsSource(nameof(Rollups))]
    public bool Rollup { get; set; }

    /// <summary>Gets the rollup settings to run: both, or only the rollup when <c>TM_BENCH_ROLLUP_ONLY=1</c> (a rerun after a
    /// change that does not touch the scan, which takes minutes at 30 days).</summary>
    public static IEnumerable<bool> Rollups => Environment.GetEnvironmentVariable("TM_BENCH_ROLLUP_ONLY") == "1" ? [true] : [true, false];

    /// <summary>Gets or sets the dashboard's range: the last 24 hours (hourly series) or the whole 30 days (daily series).</summary>
    [Params("24h", "30d")]
    public string Range { get; set; } = "24h";

    /// <summary>Generates the cached SQLite file and PostgreSQL data directory (both at once) unless they exist.</summary>
    public static void Prepare()
    {
        var sqlite = Task.Run(() => SqlitePath());
        var postgres = CachedPostgres.Start(Path.Combine(Root, "pg"));
        try
        {
            LoadPostgres(postgres);
        }
        finally
        {
            postgres.Stop();
        }

        _ = sqlite.GetAwaiter().GetResult();
    }

    [GlobalSetup]
    public void Setup()
    {
        _from = Range == "24h" ? End.AddHours(-24) : End.AddDays(-30);
        _session = DashboardData.SessionId(99_990);
        if (Store == "SQLite")
        {
            var sqlite = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = SqlitePath(), BatchSize = 10_000 }) { UseRollup = Rollup };
            _store = sqlite;
        }
        else
        {
            _postgres = CachedPostgres.Start(Path.Combine(Root, "pg"));
            LoadPostgres(_postgres);
            _store = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = _postgres.ConnectionString }) { UseRollup = Rollup };
        }

        var total = _store.AggregateAsync(new TokenUsageAggregateQuery(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (_postgres is not null)
        {
            // Steady state: a migration that rewrote the rollup (schema 10) leaves it without a visibility map until autovacuum
            // comes by, and index-only scans then read the table too. A no-op on a vacuumed table.
            using var vacuum = new Npgsql.NpgsqlConnection(_postgres.ConnectionString);
            vacuum.Open();
            using var command = new Npgsql.NpgsqlCommand("VACUUM tokenmetrics.tm_usage_rollup", vacuum);
            command.CommandTimeout = 0;
            command.ExecuteNonQuery();
        }

        if (total.Single().Calls != Rows)
        {
            throw new InvalidOperationException($"The cached database holds {total.Single().Calls} records, not {Rows}; delete {Root}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ((IAsyncDisposable)_store).DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        _postgres?.Stop();
    }

    /// <summary>The overview call: grand totals, the series (hourly for 24 h, daily for 30 days), top 10 models, users and sessions by cost.</summary>
    [Benchmark(Description = "Overview (totals, series, top models, users, sessions)")]
    public async Task<int> Overview()
    {
        var range = new TokenUsageAggregateQuery { From = _from, To = End };
        var n = (await _store.AggregateAsync(range, CancellationToken.None)).Count;
        n += (await _store.AggregateAsync(range with { Bucket = Range == "24h" ? TokenUsageTimeBucket.Hour : TokenUsageTimeBucket.Day, SortBy = TokenUsageAggregateSort.Time, Limit = 1000 }, CancellationToken.None)).Count;
        n += (await _store.AggregateAsync(range with { GroupBy = TokenUsageDimensions.Model, SortBy = TokenUsageAggregateSort.Cost, Limit = 10 }, CancellationToken.None)).Count;
        n += (await _store.AggregateAsync(range with { GroupBy = TokenUsageDimensions.User, SortBy = TokenUsageAggregateSort.Cost, Limit = 10 }, CancellationToken.None)).Count;
        n += (await _store.GetSessionsAsync(new TokenUsageSessionQuery { From = _from, To = End, SortBy = TokenUsageSessionSort.Cost, Limit = 10 }, CancellationToken.None)).Count;
        return n;
    }

    /// <summary>Top 10 models by cost (one of the overview's queries, alone).</summary>
    [Benchmark(Description = "Top 10 models by cost")]
    public async Task<int> TopModels() =>
        (await _store.AggregateAsync(new TokenUsageAggregateQuery { From = _from, To = End, GroupBy = TokenUsageDimensions.Model, SortBy = TokenUsageAggregateSort.Cost, Limit = 10 }, CancellationToken.None)).Count;

    /// <summary>Top 10 users by cost (one of the overview's queries, alone).</summary>
    [Benchmark(Description = "Top 10 users by cost")]
    public async Task<int> TopUsers() =>
        (await _store.AggregateAsync(new TokenUsageAggregateQuery { From = _from, To = End, GroupBy = TokenUsageDimensions.User, SortBy = TokenUsageAggregateSort.Cost, Limit = 10 }, CancellationToken.None)).Count;

    /// <summary>Totals per day (the report's <c>--by day</c>).</summary>
    [Benchmark(Description = "Totals by day")]
    public async Task<int> ByDay() =>
        (await _store.AggregateAsync(new TokenUsageAggregateQuery { From = _from, To = End, Bucket = TokenUsageTimeBucket.Day, SortBy = TokenUsageAggregateSort.Time, Limit = 1000 }, CancellationToken.None)).Count;

    /// <summary>Top 10 consumers by cost (a grouping the overview does not show; the FinOps and usage pages do).</summary>
    [Benchmark(Description = "Top 10 consumers by cost")]
    public async Task<int> TopConsumers() =>
        (await _store.AggregateAsync(new TokenUsageAggregateQuery { From = _from, To = End, GroupBy = TokenUsageDimensions.Consumer, SortBy = TokenUsageAggregateSort.Cost, Limit = 10 }, CancellationToken.None)).Count;

    /// <summary>The sessions page, second page of 20, newest first.</summary>
    [Benchmark(Description = "Sessions page 2 (20, by updated)")]
    public async Task<int> SessionsByUpdated() =>
        (await _store.GetSessionsAsync(new TokenUsageSessionQuery { From = _from, To = End, SortBy = TokenUsageSessionSort.Updated, Limit = 21, Offset = 20 }, CancellationToken.None)).Count;

    /// <summary>The sessions page sorted by cost.</summary>
    [Benchmark(Description = "Sessions page 1 (20, by cost)")]
    public async Task<int> SessionsByCost() =>
        (await _store.GetSessionsAsync(new TokenUsageSessionQuery { From = _from, To = End, SortBy = TokenUsageSessionSort.Cost, Limit = 21 }, CancellationToken.None)).Count;

    /// <summary>The sessions page sorted by tokens.</summary>
    [Benchmark(Description = "Sessions page 1 (20, by tokens)")]
    public async Task<int> SessionsByTokens() =>
        (await _store.GetSessionsAsync(new TokenUsageSessionQuery { From = _from, To = End, SortBy = TokenUsageSessionSort.Tokens, Limit = 21 }, CancellationToken.None)).Count;

    /// <summary>One session with its rounds (the drill-down page; the session index, never the rollup).</summary>
    [Benchmark(Description = "One session with rounds")]
    public async Task<int> SessionWithRounds() =>
        (await _store.GetSessionsAsync(new TokenUsageSessionQuery { SessionId = _session, From = _from, To = End, IncludeRounds = true }, CancellationToken.None)).Single().Rounds!.Count;

    private static void LoadPostgres(CachedPostgres postgres)
    {
        if (!File.Exists(Path.Combine(Root, "pg-loaded")))
        {
            var store = new PostgreSqlTokenUsageStore(new PostgreSqlTokenUsageStoreOptions { ConnectionString = postgres.ConnectionString, BatchSize = 10_000 });
            DashboardData.Fill(store, Rows);
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            using var analyze = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
            analyze.Open();
            using var command = new Npgsql.NpgsqlCommand("VACUUM ANALYZE", analyze);
            command.CommandTimeout = 0;
            command.ExecuteNonQuery();
            File.WriteAllText(Path.Combine(Root, "pg-loaded"), "1000000 records\n");
        }
    }

    private static string SqlitePath()
    {
        var path = Path.Combine(Root, "sqlite", "usage.db");
        if (File.Exists(path))
        {
            return path;
        }

        // Built beside, then moved into place: an interrupted build is never mistaken for the cache.
        var building = Path.Combine(Root, "sqlite-building-" + Environment.ProcessId);
        Directory.CreateDirectory(building);
        var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Path.Combine(building, "usage.db"), BatchSize = 10_000 });
        DashboardData.Fill(store, Rows);
        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        foreach (var file in Directory.GetFiles(building))
        {
            File.Move(file, Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileName(file)));
        }

        Directory.Delete(building);
        return path;
    }
}

/// <summary>The generated dashboard data: 100,000 sessions of 10 rounds spread over 30 days.</summary>
internal static class DashboardData
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Models = Enumerable.Range(0, 20).Select(i => "model-" + i).ToArray();

    public static string SessionId(long session) => "agent:main:session-" + session;

    /// <summary>Record <paramref name="i"/>: session i / 10 (started evenly over 30 days, rounds 20 s apart), user and consumer
    /// from the session, a model per session (a second one on some rounds), 92 % priced in USD, 5 % in EUR, 3 % unpriced,
    /// 2 % estimated, 2 % failed.</summary>
    public static TokenUsageRecord Record(long i)
    {
        var session = i / 10;
        var round = i % 10;
        var at = Start + TimeSpan.FromTicks(TimeSpan.FromDays(30).Ticks / 100_000 * session) + TimeSpan.FromSeconds(20 * round);
        var user = (session * 7919) % 500;
        var model = Models[(session * 31 + (round == 3 ? 5 : 0)) % Models.Length];
        var input = 300 + (i * 37) % 4000;
        var output = 20 + (i * 13) % 800;
        var priced = i % 100;
        return new TokenUsageRecord
        {
            Id = Guid.CreateVersion7(at),
            Timestamp = at,
            Provider = model.EndsWith('1') ? "anthropic" : "openai",
            Operation = "chat",
            RequestModel = model,
            IsStreaming = i % 2 == 0,
            Status = i % 50 == 7 ? TokenUsageStatus.Error : TokenUsageStatus.Ok,
            HttpStatusCode = 200,
            Duration = TimeSpan.FromMilliseconds(200 + i % 900),
            Usage = new TokenUsage { InputTokenCount = input, OutputTokenCount = output, CachedInputTokenCount = i % 4 == 0 ? 256 : 0 },
            Source = i % 50 == 3 ? TokenUsageSource.Estimated : TokenUsageSource.Reported,
            UserId = "user-" + user,
            Consumer = "team-" + user % 50,
            SessionId = SessionId(session),
            Feature = "feature-" + session % 8,
            RoundIndex = (int)round,
            Cost = priced < 3 ? null : (input * 2.5m + output * 10m) / 1_000_000m,
            Currency = priced < 3 ? null : priced < 8 ? "EUR" : "USD",
            Layer = TokenUsageLayer.Http,
        };
    }

    public static void Fill(ITokenUsageStore store, int rows)
    {
        var batch = new TokenUsageRecord[10_000];
        for (var start = 0; start < rows; start += batch.Length)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = Record(start + i);
            }

            store.WriteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }
}

/// <summary>A PostgreSQL server whose data directory persists between benchmark processes (Debian's binaries, run as the
/// <c>postgres</c> user when root, 127.0.0.1 only, trust auth, fsync off: benchmarks only). Started and stopped by each process.</summary>
internal sealed class CachedPostgres
{
    private readonly string _bin;
    private readonly string _data;
    private readonly string? _runAs;

    private CachedPostgres(string bin, string data, string? runAs, int port)
    {
        _bin = bin;
        _data = data;
        _runAs = runAs;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true";
    }

    public string ConnectionString { get; }

    public static CachedPostgres Start(string root)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).First(b => File.Exists(Path.Combine(b, "pg_ctl")));
        string? runAs = Environment.IsPrivilegedProcess ? "postgres" : null;
        var data = Path.Combine(root, "data");
        var portFile = Path.Combine(root, "port");
        if (!File.Exists(portFile))
        {
            Directory.CreateDirectory(root);
            if (runAs is not null)
            {
                Run("chown", ["-R", runAs, root], null);
            }

            Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], runAs);
            File.WriteAllText(portFile, FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var port = int.Parse(File.ReadAllText(portFile), System.Globalization.CultureInfo.InvariantCulture);
        Run(Path.Combine(bin, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "120",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c work_mem=64MB",
            "start",
        ], runAs);
        return new CachedPostgres(bin, data, runAs, port);
    }

    public void Stop()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        Run(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-m", "fast", "-w", "stop"], _runAs);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, string[] args, string? runAs)
    {
        var start = new ProcessStartInfo(runAs is null ? file : "runuser") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in (runAs is null ? Array.Empty<string>() : ["-u", runAs, "--", file]).Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited with {process.ExitCode}: {output.Result}{error.Result}");
        }
    }
}

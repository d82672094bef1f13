using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace TokenMetrics.Budgets.Redis.Tests;

/// <summary>Redis down, killed, paused or silent: the store throws <see cref="RedisBudgetStoreException"/> within its
/// operation timeout and never hangs. "Bounded" assertions use generous limits (seconds) so a loaded machine cannot fail them;
/// a hang would.</summary>
public sealed class RedisFailureTests
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Forever = TimeSpan.FromDays(10_000);

    [Fact]
    public async Task RedisKilledMidRunFailsFastAndWorksAgainAfterARestart()
    {
        await using var server = await RedisTestServer.StartAsync();
        await using var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions
        {
            ConnectionString = server.ConnectionString,
            OperationTimeout = TimeSpan.FromMilliseconds(250),
        });
        Assert.True(await WaitUntilAsync(async () => (await TryAsync(store)) is { Allowed: true }), "the store never reached Redis");

        // 8 callers hammer the counter; Redis is killed while they run.
        long ok = 0, failed = 0, other = 0;
        var slowest = TimeSpan.Zero;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    await store.TryConsumeAsync("tpm:killed", 1, long.MaxValue / 2, Forever, CancellationToken.None);
                    Interlocked.Increment(ref ok);
                }
                catch (RedisBudgetStoreException)
                {
                    Interlocked.Increment(ref failed);
                    await Task.Delay(5);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref other);
                }

                lock (stop)
                {
                    slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
                }
            }
        })).ToArray();

        Assert.True(await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref ok) > 100)), "no calls succeeded before the kill");
        server.Kill();
        Assert.True(await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref failed) > 50)), "calls kept succeeding after the kill");
        var failuresWhileDown = store.Failures;

        await server.RestartAsync();
        var okBefore = Interlocked.Read(ref ok);
        Assert.True(await WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref ok) > okBefore + 100)), "the store did not recover after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException here means a caller hung

        Assert.Equal(0, Interlocked.Read(ref other));
        Assert.True(failuresWhileDown > 50);
        Assert.True(store.Failures >= Interlocked.Read(ref failed), "every failed call is counted");
        Assert.True(slowest < HangBound, $"a call took {slowest}");
    }

    [Fact]
    public async Task UnreachableRedisThrowsTheStoreExceptionWithoutTheSecret()
    {
        var port = ClosedPort();
        await using var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions
        {
            ConnectionString = $"127.0.0.1:{port},password=s3cret-pa55",
            OperationTimeout = TimeSpan.FromMilliseconds(250),
        });

        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<RedisBudgetStoreException>(async () => await TryAsync(store));
            Assert.True(watch.Elapsed < HangBound, $"call {i} took {watch.Elapsed}");
            Assert.DoesNotContain("s3cret-pa55", ex.ToString(), StringComparison.Ordinal);
            await Assert.ThrowsAsync<RedisBudgetStoreException>(async () => await store.AddAsync("k", 5, Forever, CancellationToken.None));
        }

        Assert.Equal(10, store.Failures);
        Assert.Equal(10, store.Calls);
    }

    [Fact]
    public async Task ASilentServerTimesOutWithinTheOperationTimeout()
    {
        // Accepts connections and never answers: the handshake never completes.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<TcpClient>();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await silent.AcceptTcpClientAsync());
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using (var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = $"127.0.0.1:{port}", OperationTimeout = TimeSpan.FromMilliseconds(200) }))
        {
            for (var i = 0; i < 3; i++)
            {
                var watch = Stopwatch.StartNew();
                var ex = await Assert.ThrowsAsync<RedisBudgetStoreException>(async () => await TryAsync(store));
                Assert.True(watch.Elapsed < HangBound, $"call {i} took {watch.Elapsed}");
                Assert.NotNull(ex.InnerException);
            }
        }

        silent.Stop();
        await acceptLoop;
        accepted.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task APausedServerTimesOutAndTheNextCallsWorkAgain()
    {
        await using var server = await RedisTestServer.StartAsync();
        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        await using var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = server.ConnectionString, OperationTimeout = TimeSpan.FromMilliseconds(200) });
        Assert.True(await WaitUntilAsync(async () => (await TryAsync(store)) is { Allowed: true }), "the store never reached Redis");

        // CLIENT PAUSE holds every client's commands for 3 s: the store must give up after its timeout, not wait.
        await direct.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RedisBudgetStoreException>(async () => await TryAsync(store));
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(2500), $"the call waited {watch.Elapsed} for a 3 s pause");
        Assert.True(await WaitUntilAsync(async () => (await TryAsync(store)) is { Allowed: true }), "the store did not answer after the pause ended");
    }

    [Fact]
    public async Task CallerCancellationIsAnOperationCanceledExceptionNotAFailure()
    {
        await using var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = $"127.0.0.1:{ClosedPort()}" });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.TryConsumeAsync("k", 1, 10, Forever, cancelled.Token));
        Assert.Equal(0, store.Failures);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions()));
        Assert.Throws<ArgumentException>(() => new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = "127.0.0.1:1", KeyPrefix = "a{b" }));
        Assert.Throws<ArgumentException>(() => new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = "127.0.0.1:1", OperationTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { ConnectionString = "127.0.0.1:1", Database = -2 }));
    }

    [Fact]
    public async Task InvalidOptionsFailTheHostAtStartUp()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTokenMetrics().AddRedisBudgetStore(o => o.OperationTimeout = TimeSpan.FromMinutes(5));
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OperationTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRedisStoreReplacesTheInProcessDefaultInEitherOrder()
    {
        foreach (var defaultFirst in new[] { true, false })
        {
            var services = new ServiceCollection();
            var tm = services.AddTokenMetrics();
            if (defaultFirst)
            {
                services.TryAddSingleton<ITokenUsageBudgetStore, NullBudgetStore>();
            }

            tm.AddRedisBudgetStore(o => o.ConnectionString = $"127.0.0.1:{ClosedPort()}");
            services.TryAddSingleton<ITokenUsageBudgetStore, NullBudgetStore>();
            await using var provider = services.BuildServiceProvider();
            var store = provider.GetRequiredService<ITokenUsageBudgetStore>();
            Assert.IsType<RedisTokenUsageBudgetStore>(store);
            Assert.Same(provider.GetRequiredService<RedisTokenUsageBudgetStore>(), store);
        }
    }

    [Fact]
    public async Task AnAppOwnedConnectionIsUsedAndNotDisposed()
    {
        await using var server = await RedisTestServer.StartAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        await using (var store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions { Connection = mux, ConnectionString = "ignored:1", OperationTimeout = TimeSpan.FromSeconds(10) }))
        {
            Assert.True((await TryAsync(store)).Allowed);
        }

        Assert.True(mux.IsConnected);
        Assert.Single(mux.GetServer(mux.GetEndPoints()[0]).Keys(pattern: RedisBudgetStoreOptions.DefaultKeyPrefix + "*"));
    }

    private static ValueTask<TokenUsageBudgetCheck> TryAsync(RedisTokenUsageBudgetStore store)
        => store.TryConsumeAsync("tpm:probe", 1, long.MaxValue / 2, Forever, CancellationToken.None);

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition)
    {
        // Bounded: 600 tries, 50 ms apart (30 s), for conditions that hold within milliseconds on a healthy machine.
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if (await condition())
                {
                    return true;
                }
            }
            catch (RedisBudgetStoreException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class NullBudgetStore : ITokenUsageBudgetStore
    {
        public ValueTask<TokenUsageBudgetCheck> TryConsumeAsync(string counterKey, long amount, long limit, TimeSpan window, CancellationToken cancellationToken)
            => ValueTask.FromResult(new TokenUsageBudgetCheck(true, 0, limit, window));

        public ValueTask AddAsync(string counterKey, long delta, TimeSpan window, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}

using System.Globalization;
using StackExchange.Redis;

namespace TokenMetrics.Budgets.Redis.Tests;

[Collection(RedisCollection.Name)]
public sealed class RedisBudgetStoreTests(RedisServerFixture fixture) : IAsyncLifetime
{
    // A window so long (aligned to the Unix epoch) that no test run crosses its boundary.
    private static readonly TimeSpan Forever = TimeSpan.FromDays(10_000);

    private readonly string _prefix = "test:" + Guid.NewGuid().ToString("N")[..8] + ":";
    private RedisTokenUsageBudgetStore _store = null!;
    private ConnectionMultiplexer _direct = null!;

    public async Task InitializeAsync()
    {
        // Generous timeout: these tests are about counting; the timeout tests use their own stores.
        _store = new RedisTokenUsageBudgetStore(new RedisBudgetStoreOptions
        {
            ConnectionString = fixture.Server.ConnectionString,
            KeyPrefix = _prefix,
            OperationTimeout = TimeSpan.FromSeconds(10),
        });
        _direct = await ConnectionMultiplexer.ConnectAsync(fixture.Server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _direct.DisposeAsync();
    }

    [Fact]
    public async Task FiftyParallelCallersNeverTakeMoreThanTheLimit()
    {
        const long Amount = 7, Limit = 1000;
        long allowed = 0;
        var callers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                if ((await _store.TryConsumeAsync("tpm:parallel", Amount, Limit, Forever, CancellationToken.None)).Allowed)
                {
                    Interlocked.Increment(ref allowed);
                }
            }
        }));
        await Task.WhenAll(callers);

        // 2,000 attempts of 7 against 1,000: exactly floor(1000 / 7) = 142 fit, never one more.
        Assert.Equal(Limit / Amount, allowed);
        var after = await _store.TryConsumeAsync("tpm:parallel", 0, Limit, Forever, CancellationToken.None);
        Assert.Equal(allowed * Amount, after.Used);
        Assert.Equal(Limit - (allowed * Amount), after.Remaining);
    }

    [Fact]
    public async Task ADeniedRequestAddsNothingAndReportsWhatIsLeft()
    {
        var first = await _store.TryConsumeAsync("tpm:deny", 600, 1000, Forever, CancellationToken.None);
        Assert.Equal(new TokenUsageBudgetCheck(true, 600, 400, first.ResetAfter), first);
        Assert.InRange(first.ResetAfter, TimeSpan.FromMilliseconds(1), Forever);

        var denied = await _store.TryConsumeAsync("tpm:deny", 401, 1000, Forever, CancellationToken.None);
        Assert.False(denied.Allowed);
        Assert.Equal(600, denied.Used);
        Assert.Equal(400, denied.Remaining);

        var exact = await _store.TryConsumeAsync("tpm:deny", 400, 1000, Forever, CancellationToken.None);
        Assert.True(exact.Allowed);
        Assert.Equal(1000, exact.Used);
        Assert.Equal(0, exact.Remaining);
    }

    [Fact]
    public async Task KeysAreOnePerCounterAndWindowAlignedToTheServerClockAndExpireWithTheWindow()
    {
        var check = await _store.TryConsumeAsync("tpm:user:alice", 5, 100, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(check.Allowed);
        var server = _direct.GetServer(_direct.GetEndPoints()[0]);
        var keys = server.Keys(pattern: _prefix + "*").Select(k => k.ToString()).ToList();
        var key = Assert.Single(keys);
        Assert.StartsWith(_prefix + "{tpm:user:alice}:60000:", key, StringComparison.Ordinal);
        var start = long.Parse(key[(key.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        Assert.Equal(0, start % 60_000);

        var serverNow = (DateTimeOffset)(await server.TimeAsync());
        Assert.InRange(serverNow.ToUnixTimeMilliseconds() - start, 0, 60_000 + 1000);
        Assert.Equal(5, (long)await _direct.GetDatabase().StringGetAsync(key));
        var ttl = await _direct.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Assert.InRange(check.ResetAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task AFullWindowAcceptsAgainOnceItsWindowHasPassed()
    {
        var window = TimeSpan.FromMilliseconds(300);
        var check = await _store.TryConsumeAsync("tpm:expiry", 10, 10, window, CancellationToken.None);
        if (!check.Allowed)
        {
            // Not possible on a fresh counter; kept as an explicit failure.
            Assert.Fail("a fresh window refused its limit");
        }

        // The window is full until it passes; wait on the condition (bounded: 200 tries of 50 ms), not on a fixed delay.
        // (That a full window refuses is ADeniedRequestAddsNothingAndReportsWhatIsLeft's job: here a slow machine may cross
        // a 300 ms boundary between two calls.)
        var acceptedAgain = false;
        for (var i = 0; i < 200 && !acceptedAgain; i++)
        {
            await Task.Delay(50);
            var again = await _store.TryConsumeAsync("tpm:expiry", 10, 10, window, CancellationToken.None);
            acceptedAgain = again.Allowed;
        }

        Assert.True(acceptedAgain, "a new window must accept the limit again");

        // Old windows' keys expire by themselves: wait (bounded) until at most the current window's key is left.
        var server = _direct.GetServer(_direct.GetEndPoints()[0]);
        var left = int.MaxValue;
        for (var i = 0; i < 200 && left > 1; i++)
        {
            left = server.Keys(pattern: _prefix + "{tpm:expiry}*").Count();
            if (left > 1)
            {
                await Task.Delay(50);
            }
        }

        Assert.InRange(left, 0, 1);
    }

    [Fact]
    public async Task AddReconcilesAndNeverGoesBelowZero()
    {
        Assert.True((await _store.TryConsumeAsync("tpm:reconcile", 500, 1000, Forever, CancellationToken.None)).Allowed);

        // The vendor reported 300 where 500 were reserved: give 200 back.
        await _store.AddAsync("tpm:reconcile", -200, Forever, CancellationToken.None);
        var check = await _store.TryConsumeAsync("tpm:reconcile", 700, 1000, Forever, CancellationToken.None);
        Assert.True(check.Allowed);
        Assert.Equal(1000, check.Used);

        // Reported more than reserved: the window may go over its limit, and then refuses everything.
        await _store.AddAsync("tpm:reconcile", 50, Forever, CancellationToken.None);
        var over = await _store.TryConsumeAsync("tpm:reconcile", 0, 1000, Forever, CancellationToken.None);
        Assert.False(over.Allowed);
        Assert.Equal(1050, over.Used);
        Assert.Equal(0, over.Remaining);

        // Giving back more than the window holds clamps at 0.
        await _store.AddAsync("tpm:reconcile", -5000, Forever, CancellationToken.None);
        var clamped = await _store.TryConsumeAsync("tpm:reconcile", 0, 1000, Forever, CancellationToken.None);
        Assert.Equal(0, clamped.Used);
        Assert.Equal(1000, clamped.Remaining);
        var key = Assert.Single(_direct.GetServer(_direct.GetEndPoints()[0]).Keys(pattern: _prefix + "{tpm:reconcile}*"));
        Assert.Equal(0, (long)await _direct.GetDatabase().StringGetAsync(key));
        Assert.NotNull(await _direct.GetDatabase().KeyTimeToLiveAsync(key));

        // A give-back on a counter that has nothing yet also clamps (a reservation from a window that already ended).
        await _store.AddAsync("tpm:reconcile-empty", -10, Forever, CancellationToken.None);
        Assert.Equal(0, (await _store.TryConsumeAsync("tpm:reconcile-empty", 0, 10, Forever, CancellationToken.None)).Used);
    }

    [Fact]
    public async Task CountersAndWindowsAreIndependent()
    {
        Assert.True((await _store.TryConsumeAsync("a", 10, 10, Forever, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryConsumeAsync("b", 10, 10, Forever, CancellationToken.None)).Allowed);
        Assert.True((await _store.TryConsumeAsync("a", 10, 10, TimeSpan.FromDays(9_999), CancellationToken.None)).Allowed);
        Assert.False((await _store.TryConsumeAsync("a", 1, 10, Forever, CancellationToken.None)).Allowed);
    }

    [Fact]
    public async Task CostSizedAmountsAreExact()
    {
        // Cost in millionths: a 1,000,000.00 monthly ceiling is 10^12, beyond 32 bits and exact in the script's doubles.
        const long Limit = 1_000_000_000_000;
        Assert.True((await _store.TryConsumeAsync("cost:team", Limit - 1, Limit, Forever, CancellationToken.None)).Allowed);
        Assert.False((await _store.TryConsumeAsync("cost:team", 2, Limit, Forever, CancellationToken.None)).Allowed);
        var last = await _store.TryConsumeAsync("cost:team", 1, Limit, Forever, CancellationToken.None);
        Assert.True(last.Allowed);
        Assert.Equal(Limit, last.Used);
    }

    [Fact]
    public async Task BadArgumentsThrowArgumentExceptions()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _store.TryConsumeAsync("k", -1, 10, Forever, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _store.TryConsumeAsync("k", 1, -1, Forever, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _store.TryConsumeAsync("k", 1, 10, TimeSpan.Zero, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(async () => await _store.TryConsumeAsync(string.Empty, 1, 10, Forever, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _store.AddAsync("k", 1, TimeSpan.FromTicks(100), CancellationToken.None));
        Assert.Equal(0, _store.Failures);
    }
}

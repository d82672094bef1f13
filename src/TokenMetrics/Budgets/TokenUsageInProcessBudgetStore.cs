using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>The default <see cref="ITokenUsageBudgetStore"/>: fixed-window counters in this process's memory.</summary>
/// <remarks>
/// <para>Windows are aligned to the Unix epoch (UTC) on the <see cref="TimeProvider"/>'s clock. One counter per key and window
/// length, reset when its window has passed; counters of past windows are swept (at most once per minute, on a call), so memory
/// holds only the keys seen in their current window. Every operation completes synchronously and allocates nothing after a key's
/// first use.</para>
/// <para><c>System.Threading.RateLimiting</c>'s fixed-window limiter is not used: the contract needs an unconditional add (negative
/// to give back) for reconciliation and an atomic check-and-add of any amount against a per-call limit, which its lease model
/// does not offer.</para>
/// </remarks>
public sealed class TokenUsageInProcessBudgetStore : ITokenUsageBudgetStore
{
    private static readonly long SweepEveryTicks = TimeSpan.FromMinutes(1).Ticks;
    private readonly ConcurrentDictionary<(string Key, long WindowTicks), Counter> _counters = new();
    private readonly TimeProvider _timeProvider;
    private long _nextSweepTicks;

    /// <summary>Initializes a new instance of the <see cref="TokenUsageInProcessBudgetStore"/> class.</summary>
    /// <param name="timeProvider">The clock; defaults to <see cref="TimeProvider.System"/>.</param>
    public TokenUsageInProcessBudgetStore(TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the number of counters held (current windows only, after a sweep).</summary>
    public int Count => _counters.Count;

    /// <inheritdoc/>
    public ValueTask<TokenUsageBudgetCheck> TryConsumeAsync(string counterKey, long amount, long limit, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counterKey);
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var now = _timeProvider.GetUtcNow().UtcTicks;
        var index = now / window.Ticks;
        var reset = TimeSpan.FromTicks(((index + 1) * window.Ticks) - now);
        while (true)
        {
            var counter = GetCounter(counterKey, window, now);
            lock (counter)
            {
                if (counter.Removed)
                {
                    continue; // swept between the lookup and the lock: use the fresh one
                }

                counter.Roll(index);
                if (counter.Used + amount > limit)
                {
                    return new(new TokenUsageBudgetCheck(false, counter.Used, Math.Max(0, limit - counter.Used), reset));
                }

                counter.Used += amount;
                return new(new TokenUsageBudgetCheck(true, counter.Used, Math.Max(0, limit - counter.Used), reset));
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask AddAsync(string counterKey, long delta, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counterKey);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var now = _timeProvider.GetUtcNow().UtcTicks;
        while (true)
        {
            var counter = GetCounter(counterKey, window, now);
            lock (counter)
            {
                if (counter.Removed)
                {
                    continue;
                }

                counter.Roll(now / window.Ticks);
                counter.Used = Math.Max(0, counter.Used + delta);
                return ValueTask.CompletedTask;
            }
        }
    }

    private Counter GetCounter(string key, TimeSpan window, long now)
    {
        if (now >= Volatile.Read(ref _nextSweepTicks))
        {
            Sweep(now);
        }

        return _counters.GetOrAdd((key, window.Ticks), static _ => new Counter());
    }

    private void Sweep(long now)
    {
        var next = Volatile.Read(ref _nextSweepTicks);
        if (now < next || Interlocked.CompareExchange(ref _nextSweepTicks, now + SweepEveryTicks, next) != next)
        {
            return; // another caller sweeps
        }

        foreach (var (key, counter) in _counters)
        {
            // A counter whose window has passed holds nothing: dropping it loses nothing. Marked under its lock, so a caller that
            // found it just before retries with a fresh one instead of counting into the removed one.
            lock (counter)
            {
                if (counter.WindowIndex < now / key.WindowTicks)
                {
                    counter.Removed = true;
                    _ = _counters.TryRemove(new KeyValuePair<(string, long), Counter>(key, counter));
                }
            }
        }
    }

    private sealed class Counter
    {
        public long WindowIndex = -1;
        public long Used;
        public bool Removed;

        public void Roll(long index)
        {
            if (WindowIndex != index)
            {
                WindowIndex = index;
                Used = 0;
            }
        }
    }
}

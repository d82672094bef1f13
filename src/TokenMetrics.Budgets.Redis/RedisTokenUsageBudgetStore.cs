using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace TokenMetrics.Budgets.Redis;

/// <summary>Budget counters in Redis, shared by every instance of the app: fixed windows on the Redis server's clock, one
/// atomic Lua script (one round trip) per call.</summary>
/// <remarks>
/// <para>Each counter and window is one key, <c>{prefix}{{counter}}:{window ms}:{window start ms}</c>, expiring when its window
/// ends. Windows are aligned to the Unix epoch on the server's clock (<c>TIME</c> inside the script), so a one-minute window
/// starts at every whole minute and a one-day window at midnight UTC, the same for every instance. The counter name is a Redis
/// Cluster hash tag, so all of a counter's keys live in one slot.</para>
/// <para>Every call is bounded by <see cref="RedisBudgetStoreOptions.OperationTimeout"/>: when Redis is unreachable, slow or
/// answers with an error, the call throws <see cref="RedisBudgetStoreException"/> and counts a failure; it never waits longer.</para>
/// </remarks>
public sealed partial class RedisTokenUsageBudgetStore : ITokenUsageBudgetStore, IAsyncDisposable, IDisposable
{
    // KEYS[1] = prefix{counter}; ARGV = amount, limit, window ms. Returns {allowed, used, reset ms}.
    // The window start comes from the server's clock so every instance agrees; scripts replicate their effects (Redis ≥ 5),
    // so reading TIME before writing is allowed.
    private const string TryConsumeScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local w = tonumber(ARGV[3])
        local start = now - (now % w)
        local key = KEYS[1] .. ':' .. ARGV[3] .. ':' .. string.format('%.0f', start)
        local reset = start + w - now
        local used = tonumber(redis.call('GET', key) or '0')
        local amount = tonumber(ARGV[1])
        if used + amount > tonumber(ARGV[2]) then
          return {0, used, reset}
        end
        if amount > 0 then
          used = redis.call('INCRBY', key, amount)
          if redis.call('PTTL', key) < 0 then
            redis.call('PEXPIRE', key, reset)
          end
        end
        return {1, used, reset}
        """;

    // KEYS[1] = prefix{counter}; ARGV = delta, window ms. Returns the window's total, clamped at 0 (a reservation given back
    // after its window rolled over must not leave the new window with credit).
    private const string AddScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local w = tonumber(ARGV[2])
        local start = now - (now % w)
        local key = KEYS[1] .. ':' .. ARGV[2] .. ':' .. string.format('%.0f', start)
        local reset = start + w - now
        local used = redis.call('INCRBY', key, ARGV[1])
        if used < 0 then
          redis.call('SET', key, 0, 'PX', reset)
          return 0
        end
        if redis.call('PTTL', key) < 0 then
          redis.call('PEXPIRE', key, reset)
        end
        return used
        """;

    private readonly RedisBudgetStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly bool _ownsConnection;
    private readonly string _prefix;
    private readonly ConfigurationOptions? _configuration;
    private IConnectionMultiplexer? _connection;
    private Task<IConnectionMultiplexer>? _connecting;
    private long _calls;
    private long _failures;
    private int _failing;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="RedisTokenUsageBudgetStore"/> class. With a connection string it
    /// starts connecting in the background at once (without failing when Redis is not reachable yet).</summary>
    /// <param name="options">The connection, key prefix and timeout.</param>
    /// <param name="logger">Logs when Redis stops and starts answering (once per change, not per call).</param>
    /// <param name="timeProvider">The clock of the timeouts (windows use the Redis server's clock).</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options are not valid (the connection string included).</exception>
    public RedisTokenUsageBudgetStore(RedisBudgetStoreOptions options, ILogger<RedisTokenUsageBudgetStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _prefix = options.KeyPrefix;
        if (options.Connection is not null)
        {
            _connection = options.Connection;
        }
        else
        {
            _ownsConnection = true;

            // Parsed here so a malformed string fails at start-up, not on the first request.
            _configuration = ConfigurationOptions.Parse(options.ConnectionString!);
            _connecting = ConnectAsync();
        }
    }

    /// <summary>Gets how many calls reached for Redis.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Gets how many calls failed (Redis unreachable, too slow or an error reply) and threw <see cref="RedisBudgetStoreException"/>.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="counterKey"/> is empty, <paramref name="amount"/> or
    /// <paramref name="limit"/> is negative, or <paramref name="window"/> is shorter than 1 ms.</exception>
    /// <exception cref="RedisBudgetStoreException">Redis did not answer within the operation timeout or answered with an error.</exception>
    public async ValueTask<TokenUsageBudgetCheck> TryConsumeAsync(string counterKey, long amount, long limit, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var key = Key(counterKey);
        var windowMs = WindowMilliseconds(window);
        var result = await EvaluateAsync(TryConsumeScript, key, [amount, limit, windowMs], cancellationToken).ConfigureAwait(false);
        var values = (RedisValue[])result!;
        var used = (long)values[1];
        return new TokenUsageBudgetCheck((long)values[0] == 1, used, Math.Max(0, limit - used), TimeSpan.FromMilliseconds(Math.Max(0, (long)values[2])));
    }

    /// <inheritdoc />
    /// <remarks>The total never goes below 0.</remarks>
    /// <exception cref="ArgumentException"><paramref name="counterKey"/> is empty or <paramref name="window"/> is shorter than 1 ms.</exception>
    /// <exception cref="RedisBudgetStoreException">Redis did not answer within the operation timeout or answered with an error.</exception>
    public async ValueTask AddAsync(string counterKey, long delta, TimeSpan window, CancellationToken cancellationToken)
    {
        var key = Key(counterKey);
        var windowMs = WindowMilliseconds(window);
        if (delta == 0)
        {
            return;
        }

        await EvaluateAsync(AddScript, key, [delta, windowMs], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection the store opened (a <see cref="RedisBudgetStoreOptions.Connection"/> given by the app stays open).</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || !_ownsConnection)
        {
            return;
        }

        var connection = await TakeOwnedConnectionAsync().ConfigureAwait(false);
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the connection the store opened (a <see cref="RedisBudgetStoreOptions.Connection"/> given by the app stays open).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || !_ownsConnection)
        {
            return;
        }

        // The connect task is bounded by the connect timeout; waiting for it here keeps a late connection from leaking.
        TakeOwnedConnectionAsync().AsTask().GetAwaiter().GetResult()?.Dispose();
    }

    private async ValueTask<IConnectionMultiplexer?> TakeOwnedConnectionAsync()
    {
        var connection = Volatile.Read(ref _connection);
        var connecting = Volatile.Read(ref _connecting);
        if (connection is null && connecting is not null)
        {
            try
            {
                connection = await connecting.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return null;
            }
        }

        return connection;
    }

    private RedisKey Key(string counterKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(counterKey);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // The braces make the counter name the Redis Cluster hash tag, so the keys the script derives share KEYS[1]'s slot.
        return (RedisKey)string.Concat(_prefix, "{", counterKey, "}");
    }

    private static long WindowMilliseconds(TimeSpan window)
    {
        var ms = window.Ticks / TimeSpan.TicksPerMillisecond;
        if (ms < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "A budget window must be at least 1 ms long.");
        }

        return ms;
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey key, RedisValue[] args, CancellationToken cancellationToken)
    {
        // A caller that already gave up gets its cancellation, whatever state the connection is in (not a store failure).
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _calls);
        var started = _time.GetTimestamp();
        try
        {
            var connection = Volatile.Read(ref _connection) ?? await WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            var remaining = _options.OperationTimeout - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException("Connecting took the whole operation timeout.");
            }

            var result = await connection.GetDatabase(_options.Database)
                .ScriptEvaluateAsync(script, [key], args)
                .WaitAsync(remaining, _time, cancellationToken)
                .ConfigureAwait(false);
            if (Interlocked.Exchange(ref _failing, 0) == 1)
            {
                Log.Recovered(_logger, Failures);
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            Interlocked.Increment(ref _failures);
            var elapsed = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            if (Interlocked.Exchange(ref _failing, 1) == 0)
            {
                Log.Failing(_logger, ex.GetType().Name, elapsed);
            }

            throw new RedisBudgetStoreException(
                string.Create(CultureInfo.InvariantCulture, $"The Redis budget store got no answer within {elapsed} ms ({ex.GetType().Name})."),
                ex);
        }
    }

    private async Task<IConnectionMultiplexer> WaitConnectedAsync(CancellationToken cancellationToken)
    {
        Task<IConnectionMultiplexer> connecting;
        lock (_gate)
        {
            connecting = _connecting ??= ConnectAsync();
        }

        try
        {
            return await connecting.WaitAsync(_options.OperationTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch when (connecting.IsFaulted)
        {
            // A failed connect (with abortConnect=false this is a configuration problem, not an outage) is retried next call.
            lock (_gate)
            {
                if (ReferenceEquals(_connecting, connecting))
                {
                    _connecting = null;
                }
            }

            throw;
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        var configuration = _configuration!.Clone();

        // Never throw or queue because Redis is down: connect in the background, fail calls at once while disconnected.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AsyncTimeout = Math.Max(1, (int)_options.OperationTimeout.TotalMilliseconds);
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        Volatile.Write(ref _connection, connection);
        if (Volatile.Read(ref _disposed) != 0)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        return connection;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Redis budget store: Redis is not answering ({Reason}, after {ElapsedMs} ms); budget checks fail until it is back.")]
        public static partial void Failing(ILogger logger, string reason, long elapsedMs);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Redis budget store: Redis is answering again ({Failures} failed calls so far).")]
        public static partial void Recovered(ILogger logger, long failures);
    }
}

using System.Collections.Generic;
using StackExchange.Redis;

namespace TokenMetrics.Budgets.Redis;

/// <summary>Settings of the <see cref="RedisTokenUsageBudgetStore"/>.</summary>
public sealed class RedisBudgetStoreOptions
{
    /// <summary>The default key prefix: <c>tokenmetrics:budget:</c>.</summary>
    public const string DefaultKeyPrefix = "tokenmetrics:budget:";

    /// <summary>Gets or sets the StackExchange.Redis configuration string (for example <c>redis1:6379,password=…</c>), used when
    /// <see cref="Connection"/> is not set.</summary>
    /// <value>Default <see langword="null"/>. Never logged or put in exception messages by the store. The store sets
    /// <c>abortConnect=false</c>, a fail-fast backlog and the async timeout from <see cref="OperationTimeout"/> on it.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets a connection owned by the app (the store does not dispose it); wins over <see cref="ConnectionString"/>.</summary>
    /// <value>Default <see langword="null"/>. Its own timeouts and backlog policy apply inside the store's <see cref="OperationTimeout"/>.</value>
    public IConnectionMultiplexer? Connection { get; set; }

    /// <summary>Gets or sets the Redis database number.</summary>
    /// <value>Default -1: the connection's default database.</value>
    public int Database { get; set; } = -1;

    /// <summary>Gets or sets the prefix of every counter key; keys are <c>{prefix}{{counter}}:{window ms}:{window start ms}</c>.</summary>
    /// <value>Default <see cref="DefaultKeyPrefix"/>. At most 128 characters, no braces, white space or control characters.</value>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>Gets or sets the longest a call may take, connecting included; a slower or unreachable Redis makes the call throw
    /// <see cref="RedisBudgetStoreException"/> by then, so a budget check never holds a request longer.</summary>
    /// <value>Default 250 ms; more than 0 and at most 30 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Lists what is wrong with these options (empty when they are valid).</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (Connection is null && string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add("RedisBudgetStoreOptions: set ConnectionString or Connection.");
        }

        if (KeyPrefix is null || KeyPrefix.Length > 128)
        {
            errors.Add("RedisBudgetStoreOptions.KeyPrefix must be set and at most 128 characters long.");
        }
        else
        {
            foreach (var c in KeyPrefix)
            {
                if (c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c))
                {
                    // Braces would change the Redis Cluster hash tag, which the store puts around the counter name.
                    errors.Add("RedisBudgetStoreOptions.KeyPrefix may not contain braces, white space or control characters.");
                    break;
                }
            }
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromSeconds(30))
        {
            errors.Add("RedisBudgetStoreOptions.OperationTimeout must be more than 0 and at most 30 seconds.");
        }

        if (Database < -1)
        {
            errors.Add("RedisBudgetStoreOptions.Database must be -1 (the default database) or a database number.");
        }

        return errors;
    }
}

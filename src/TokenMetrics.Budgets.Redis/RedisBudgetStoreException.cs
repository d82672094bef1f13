namespace TokenMetrics.Budgets.Redis;

/// <summary>Thrown by the <see cref="RedisTokenUsageBudgetStore"/> when Redis could not answer within the operation timeout
/// (unreachable, too slow, or an error reply). The budget layer catches it and fails open or closed as configured.</summary>
/// <remarks>The message never contains the connection string; the cause is in <see cref="Exception.InnerException"/>.</remarks>
public sealed class RedisBudgetStoreException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RedisBudgetStoreException"/> class.</summary>
    public RedisBudgetStoreException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RedisBudgetStoreException"/> class.</summary>
    /// <param name="message">What failed.</param>
    public RedisBudgetStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RedisBudgetStoreException"/> class.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public RedisBudgetStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace TokenMetrics;

/// <summary>Thrown by an exporter to say how a failed export should be retried.</summary>
/// <remarks>The pipeline retries transient failures with jittered exponential backoff, waiting at least <see cref="RetryAfter"/>
/// when given (for example from an HTTP <c>Retry-After</c> header); permanent failures are not retried, and the batch goes to the spool.</remarks>
public sealed class TokenUsageExportException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TokenUsageExportException"/> class.</summary>
    public TokenUsageExportException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenUsageExportException"/> class.</summary>
    /// <param name="message">What failed.</param>
    public TokenUsageExportException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenUsageExportException"/> class.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public TokenUsageExportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenUsageExportException"/> class.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="isTransient">Whether retrying may succeed.</param>
    /// <param name="retryAfter">The least time to wait before retrying, when the backend said so.</param>
    /// <param name="innerException">The cause.</param>
    public TokenUsageExportException(string message, bool isTransient, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets a value indicating whether retrying may succeed.</summary>
    public bool IsTransient { get; } = true;

    /// <summary>Gets the least time to wait before retrying, when the backend said so.</summary>
    public TimeSpan? RetryAfter { get; }
}

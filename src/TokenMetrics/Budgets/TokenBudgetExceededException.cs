namespace TokenMetrics;

/// <summary>Thrown when a call would break a <see cref="TokenUsageBudget"/>: it was not sent.</summary>
public sealed class TokenBudgetExceededException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TokenBudgetExceededException"/> class.</summary>
    public TokenBudgetExceededException()
        : this("The call would exceed a token budget.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenBudgetExceededException"/> class.</summary>
    /// <param name="message">The message.</param>
    public TokenBudgetExceededException(string message)
        : base(message)
    {
        BudgetName = string.Empty;
        Subject = string.Empty;
        LimitName = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="TokenBudgetExceededException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TokenBudgetExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
        BudgetName = string.Empty;
        Subject = string.Empty;
        LimitName = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="TokenBudgetExceededException"/> class.</summary>
    /// <param name="budgetName">The budget's name.</param>
    /// <param name="subject">The subject counted (for an API key, its hash prefix).</param>
    /// <param name="limitName">The limit broken: <c>tokens_per_minute</c>, <c>tokens_per_hour</c>, <c>tokens_per_day</c>, <c>cost_per_day</c> or <c>cost_per_month</c>.</param>
    /// <param name="limit">The limit (tokens, or cost in the catalog's currency).</param>
    /// <param name="remaining">What the window can still take.</param>
    /// <param name="retryAfter">When the window resets.</param>
    public TokenBudgetExceededException(string budgetName, string subject, string limitName, decimal limit, decimal remaining, TimeSpan retryAfter)
        : base($"The call would exceed the budget '{budgetName}' ({limitName} {limit} for {subject}; {remaining} left, resets in {Math.Ceiling(retryAfter.TotalSeconds)} s).")
    {
        BudgetName = budgetName;
        Subject = subject;
        LimitName = limitName;
        Limit = limit;
        Remaining = remaining;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the budget's name.</summary>
    public string BudgetName { get; }

    /// <summary>Gets the subject counted (user, consumer, tag value, model, API key hash prefix, or <c>*</c> for a global budget).</summary>
    public string Subject { get; }

    /// <summary>Gets the limit broken (<c>tokens_per_minute</c>, <c>tokens_per_hour</c>, <c>tokens_per_day</c>, <c>cost_per_day</c>, <c>cost_per_month</c>),
    /// or <c>store_unavailable</c> when a fail-closed budget's store failed.</summary>
    public string LimitName { get; }

    /// <summary>Gets the limit: tokens, or cost in the price catalog's currency.</summary>
    public decimal Limit { get; }

    /// <summary>Gets what the window can still take, in the same unit as <see cref="Limit"/>.</summary>
    public decimal Remaining { get; }

    /// <summary>Gets how long until the window resets.</summary>
    public TimeSpan RetryAfter { get; }
}

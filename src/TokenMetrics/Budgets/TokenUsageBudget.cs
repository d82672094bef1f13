namespace TokenMetrics;

/// <summary>One budget: a cap on tokens per minute, hour or day and on cost per day or month, counted per subject.</summary>
/// <remarks>
/// <para>Configured in <see cref="TokenMetricsOptions.Budgets"/> (section <c>TokenMetrics:Budgets</c>, a list) and changeable at
/// run time through <see cref="TokenMetricsSettings.Budgets"/>. Before a call leaves the process its input is estimated with the
/// tokenizer, the requested maximum output is added, and the sum is reserved against every budget that applies (all or nothing);
/// after the call the reservation is reconciled with the usage (and cost) of the call's record.</para>
/// <para>Settable so that configuration can bind it; the settings snapshot holds its own copies, so changing an instance after
/// handing it over changes nothing.</para>
/// <para>Windows are fixed and aligned to the Unix epoch in UTC: a minute, an hour, a day, and 30 days for "month".</para>
/// </remarks>
public sealed record TokenUsageBudget
{
    /// <summary>Gets the budget's name: unique, used in counter keys, metrics and the rejection (no <c>:</c>).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets what the budget counts per: each user, consumer, API key, tag value or model has its own counters, or one global counter.</summary>
    /// <value>The default is <see cref="TokenUsageBudgetSubject.Global"/>.</value>
    public TokenUsageBudgetSubject Subject { get; set; } = TokenUsageBudgetSubject.Global;

    /// <summary>Gets the tag whose value is the subject, for <see cref="TokenUsageBudgetSubject.Tag"/>.</summary>
    public string? TagName { get; set; }

    /// <summary>Gets the most tokens (input + output) per minute; <see langword="null"/> for no limit.</summary>
    public long? TokensPerMinute { get; set; }

    /// <summary>Gets the most tokens per hour; <see langword="null"/> for no limit.</summary>
    public long? TokensPerHour { get; set; }

    /// <summary>Gets the most tokens per day (UTC); <see langword="null"/> for no limit.</summary>
    public long? TokensPerDay { get; set; }

    /// <summary>Gets the most cost per day (UTC), in the price catalog's currency; <see langword="null"/> for no limit.</summary>
    public decimal? CostPerDay { get; set; }

    /// <summary>Gets the most cost per 30-day window, in the price catalog's currency; <see langword="null"/> for no limit.</summary>
    public decimal? CostPerMonth { get; set; }

    /// <summary>Gets how the handler (HTTP) path refuses a call over this budget; the chat-client path always throws
    /// <see cref="TokenBudgetExceededException"/>.</summary>
    /// <value>The default is <see cref="TokenUsageBudgetRejection.TooManyRequests"/>.</value>
    public TokenUsageBudgetRejection Rejection { get; set; } = TokenUsageBudgetRejection.TooManyRequests;

    /// <summary>Gets a value indicating whether a call is refused when the counter store fails or times out.</summary>
    /// <value>The default is <see langword="false"/>: the call goes out (fail open), counted and logged.</value>
    public bool FailClosed { get; set; }
}

/// <summary>What a <see cref="TokenUsageBudget"/> counts per.</summary>
public enum TokenUsageBudgetSubject
{
    /// <summary>One counter for every call.</summary>
    Global = 0,

    /// <summary>Per <see cref="TokenUsageRecord.UserId"/>; calls without a user are not counted.</summary>
    User = 1,

    /// <summary>Per <see cref="TokenUsageRecord.Consumer"/>; calls without a consumer are not counted.</summary>
    Consumer = 2,

    /// <summary>Per API key (handler path only): a SHA-256 prefix of the <c>Authorization</c>, <c>api-key</c>, <c>x-api-key</c> or
    /// <c>x-goog-api-key</c> header value; the key itself is never stored or logged.</summary>
    ApiKey = 3,

    /// <summary>Per value of the tag <see cref="TokenUsageBudget.TagName"/>; calls without it are not counted.</summary>
    Tag = 4,

    /// <summary>Per requested model; calls without a model are not counted.</summary>
    Model = 5,
}

/// <summary>How the handler path refuses a call over budget.</summary>
public enum TokenUsageBudgetRejection
{
    /// <summary>A synthetic <c>429 Too Many Requests</c> in the vendor's shape (OpenAI or Anthropic headers and error body), which the
    /// vendors' SDKs surface as their own rate-limit error.</summary>
    TooManyRequests = 0,

    /// <summary>A <see cref="TokenBudgetExceededException"/> from <c>SendAsync</c>.</summary>
    Exception = 1,
}

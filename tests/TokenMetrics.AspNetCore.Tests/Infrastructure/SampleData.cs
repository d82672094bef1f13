namespace TokenMetrics.AspNetCore.Tests.Infrastructure;

/// <summary>Known records at fixed times, written straight into the store.</summary>
public static class SampleData
{
    public const string SpecialSession = "agent:test:session/with?special&chars";

    /// <summary>The start of the sample day; every sample record lies in [Day, Day + 3h).</summary>
    public static readonly DateTimeOffset Day = new(2026, 1, 10, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A range that holds every sample record, as query parameters.</summary>
    public const string Range = "from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z";

    public static TokenUsageRecord Record(
        int minute, string model, string? user, string? session, long input, long output, decimal? cost,
        TokenUsageSource source = TokenUsageSource.Reported, string? consumer = null, string currency = "USD", long reasoning = 0) => new()
    {
        Timestamp = Day.AddMinutes(minute),
        Provider = model.StartsWith("claude", StringComparison.Ordinal) ? "anthropic" : "openai",
        Operation = "chat",
        RequestModel = model,
        ResponseModel = model,
        Status = TokenUsageStatus.Ok,
        Duration = TimeSpan.FromMilliseconds(100 + minute),
        Usage = new TokenUsage { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output, ReasoningTokenCount = reasoning },
        Source = source,
        UserId = user,
        SessionId = session,
        Consumer = consumer,
        Cost = cost,
        Currency = cost is null ? null : currency,
    };

    /// <summary>Six records in three hours. Ordered by cost: model gpt-4o, user alice, session s-1 first; by tokens: claude-sonnet-4,
    /// bob, the special session; by last update: the special session, s-2, s-1. 400 of the 2845 tokens are estimated; one call is unpriced.</summary>
    public static IReadOnlyList<TokenUsageRecord> Standard() =>
    [
        Record(1, "gpt-4o", "alice", "s-1", 100, 50, 2.00m, consumer: "team-a"),
        Record(2, "gpt-4o", "alice", "s-1", 200, 80, 3.00m, consumer: "team-a", reasoning: 20),
        Record(65, "gpt-4o-mini", "bob", "s-2", 300, 100, 0.01m, TokenUsageSource.Estimated, consumer: "team-b"),
        Record(70, "claude-sonnet-4", "bob", SpecialSession, 1000, 400, 1.50m, consumer: "team-b"),
        Record(130, "claude-sonnet-4", "carol", SpecialSession, 500, 100, null, consumer: "team-a"),
        Record(150, "gpt-4o", null, null, 10, 5, 0.001m),
    ];

    public static async Task<IReadOnlyList<TokenUsageRecord>> SeedAsync(ITokenUsageStore store, IReadOnlyList<TokenUsageRecord>? records = null)
    {
        records ??= Standard();
        Assert.Equal(records.Count, await store.WriteAsync(records, CancellationToken.None));
        return records;
    }
}

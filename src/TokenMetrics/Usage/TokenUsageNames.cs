namespace TokenMetrics;

/// <summary>The lower-case names every exporter writes for a record's status and usage source (one home, so a new value
/// reaches all of them at once).</summary>
internal static class TokenUsageNames
{
    public static string Status(TokenUsageStatus status) => status switch
    {
        TokenUsageStatus.Ok => "ok",
        TokenUsageStatus.Error => "error",
        TokenUsageStatus.Cancelled => "cancelled",
        TokenUsageStatus.Abandoned => "abandoned",
        TokenUsageStatus.Capped => "capped",
        TokenUsageStatus.Rejected => "rejected",
        _ => "truncated",
    };

    public static string Source(TokenUsageSource source) => source switch
    {
        TokenUsageSource.Reported => "reported",
        TokenUsageSource.Estimated => "estimated",
        _ => "missing",
    };
}

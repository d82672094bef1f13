namespace TokenMetrics.Exporters.Tests.Infrastructure;

internal static class Records
{
    public static TokenUsageRecord Chat(
        string model = "gpt-4o",
        long input = 100,
        long output = 50,
        long? cached = null,
        long? reasoning = null,
        string provider = "openai",
        string? consumer = null,
        TokenUsageStatus status = TokenUsageStatus.Ok,
        TokenUsageSource source = TokenUsageSource.Reported,
        bool streaming = false,
        DateTimeOffset? timestamp = null,
        string? session = null) => new()
        {
            Timestamp = timestamp ?? new DateTimeOffset(2026, 11, 22, 10, 30, 15, 123, TimeSpan.Zero),
            Provider = provider,
            Operation = "chat",
            RequestModel = model,
            ResponseModel = model + "-2024-08-06",
            IsStreaming = streaming,
            Status = status,
            ErrorType = status == TokenUsageStatus.Ok ? null : "500",
            Duration = TimeSpan.FromMilliseconds(1955),
            TimeToFirstChunk = streaming ? TimeSpan.FromMilliseconds(309) : null,
            Source = source,
            Consumer = consumer,
            SessionId = session,
            Usage = source == TokenUsageSource.Missing ? TokenUsage.Empty : new TokenUsage
            {
                InputTokenCount = input,
                OutputTokenCount = output,
                TotalTokenCount = input + output,
                CachedInputTokenCount = cached,
                ReasoningTokenCount = reasoning,
            },
        };
}

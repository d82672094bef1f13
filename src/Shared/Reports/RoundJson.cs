using System.Collections.Generic;
using System.Linq;

namespace TokenMetrics.Reports.Internal;

// The JSON shape of one round (record) of a session, the same for the ASP.NET Core API (api/sessions/{id}) and the CLI
// (sessions show --format json): one home, so the two never drift.
/// <summary>One round (record) of a session.</summary>
internal sealed class RoundJson
{
    public Guid Id { get; set; }

    public DateTimeOffset Timestamp { get; set; }

    public int? RoundIndex { get; set; }

    public Guid? OperationId { get; set; }

    public string? Provider { get; set; }

    public string? Operation { get; set; }

    public string? Model { get; set; }

    public string? RequestModel { get; set; }

    public bool Streaming { get; set; }

    public string Status { get; set; } = string.Empty;

    public string? ErrorType { get; set; }

    public int? HttpStatus { get; set; }

    public double DurationMs { get; set; }

    public double? TimeToFirstChunkMs { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public long? TotalTokens { get; set; }

    public long? CachedInputTokens { get; set; }

    public long? CacheWriteInputTokens { get; set; }

    public long? ReasoningTokens { get; set; }

    /// <summary>Gets or sets <c>reported</c>, <c>estimated</c> or <c>missing</c>.</summary>
    public string Source { get; set; } = string.Empty;

    public decimal? Cost { get; set; }

    public string? Currency { get; set; }

    public string? UserId { get; set; }

    public string? Consumer { get; set; }

    public string? Feature { get; set; }

    public IReadOnlyDictionary<string, string> Tags { get; set; } = new Dictionary<string, string>();

    /// <summary>Gets or sets the captured content, when it was captured and asked for.</summary>
    public ContentJson? Content { get; set; }

    public static RoundJson From(TokenUsageRecord r, bool content = true) => new()
    {
        Id = r.Id,
        Timestamp = r.Timestamp,
        RoundIndex = r.RoundIndex,
        OperationId = r.OperationId,
        Provider = r.Provider,
        Operation = r.Operation,
        Model = r.ResponseModel ?? r.RoutedModel ?? r.RequestModel,
        RequestModel = r.RequestModel,
        Streaming = r.IsStreaming,
        Status = r.Status.ToString().ToLowerInvariant(),
        ErrorType = r.ErrorType,
        HttpStatus = r.HttpStatusCode,
        DurationMs = r.Duration.TotalMilliseconds,
        TimeToFirstChunkMs = r.TimeToFirstChunk?.TotalMilliseconds,
        InputTokens = r.Usage.InputTokenCount,
        OutputTokens = r.Usage.OutputTokenCount,
        TotalTokens = r.Usage.GetTotalOrSum(),
        CachedInputTokens = r.Usage.CachedInputTokenCount,
        CacheWriteInputTokens = r.Usage.CacheWriteInputTokenCount,
        ReasoningTokens = r.Usage.ReasoningTokenCount,
        Source = r.Source.ToString().ToLowerInvariant(),
        Cost = r.Cost,
        Currency = r.Currency,
        UserId = r.UserId,
        Consumer = r.Consumer,
        Feature = r.Feature,
        Tags = r.Tags ?? new Dictionary<string, string>(),
        Content = content && r.Content is { } c
            ? new ContentJson
            {
                Question = c.Question,
                Answer = c.Answer,
                Reasoning = c.Reasoning,
                ToolCalls = c.ToolCalls?.Select(t => new ToolCallJson { Name = t.Name, Arguments = t.Arguments }).ToList() ?? [],
            }
            : null,
    };
}

internal sealed class ContentJson
{
    public string? Question { get; set; }

    public string? Answer { get; set; }

    public string? Reasoning { get; set; }

    public List<ToolCallJson> ToolCalls { get; set; } = [];
}

internal sealed class ToolCallJson
{
    public string? Name { get; set; }

    public string? Arguments { get; set; }
}


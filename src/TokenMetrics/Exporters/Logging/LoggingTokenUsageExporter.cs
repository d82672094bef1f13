using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TokenMetrics;

/// <summary>Writes one structured log entry per call ("Token usage statistics", with <c>model</c>, <c>input_tokens</c>,
/// <c>output_tokens</c>, <c>total_tokens</c>, <c>consumer</c> and more as structured fields).</summary>
/// <remarks>Logs no credentials (records carry none) and never the captured content (question, answer, reasoning, tool calls):
/// logs are a shared, long-lived sink, so content goes to stores and the ai_log exporter only. <c>cost</c> is empty when the
/// price is unknown, never 0. Every text that came from a request or
/// a response (model, provider, operation, consumer, user, session) has its control characters escaped (<c>\n</c>, <c>\u001b</c>, ...),
/// so a crafted model name cannot forge a line in a plain-text sink.</remarks>
public sealed partial class LoggingTokenUsageExporter : ITokenUsageExporter
{
    // C0, DEL, C1 (NEL included) and the Unicode line/paragraph separators: what a sink may render as a line break or a terminal command.
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(i => (char)i)) + "\u2028\u2029");

    private readonly ILogger _logger;
    private readonly LogLevel _level;

    /// <summary>Initializes a new instance of the <see cref="LoggingTokenUsageExporter"/> class.</summary>
    /// <param name="logger">Where entries go (category <c>TokenMetrics.Usage</c> under DI).</param>
    /// <param name="level">The level of the entries.</param>
    public LoggingTokenUsageExporter(ILogger logger, LogLevel level = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _level = level;
    }

    /// <inheritdoc/>
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!_logger.IsEnabled(_level))
        {
            return ValueTask.FromResult(TokenUsageExportResult.Success);
        }

        foreach (var r in batch)
        {
#pragma warning disable CA1873 // guarded by IsEnabled above, once per batch
            LogUsage(
                _logger,
                _level,
                Escape(r.ResponseModel ?? r.RequestModel),
                r.Usage.InputTokenCount,
                r.Usage.OutputTokenCount,
                r.Usage.GetTotalOrSum(),
                Escape(r.Consumer),
                Escape(r.Provider),
                Escape(r.Operation),
                r.Usage.CachedInputTokenCount,
                r.Usage.ReasoningTokenCount,
                TokenUsageNames.Source(r.Source),
                TokenUsageNames.Status(r.Status),
                r.IsStreaming,
                Math.Round(r.Duration.TotalMilliseconds, 1),
                r.TimeToFirstChunk is { } t ? Math.Round(t.TotalMilliseconds, 1) : null,
                Escape(r.UserId),
                Escape(r.SessionId),
                r.Id.ToString("N", CultureInfo.InvariantCulture),
                r.Cost,
                Escape(r.Currency),
                Escape(r.Feature));
#pragma warning restore CA1873
        }

        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }

    /// <summary>Escapes control characters and Unicode line/paragraph separators JSON-style; returns the same instance when there are none.</summary>
    internal static string? Escape(string? value)
    {
        if (value is null || value.AsSpan().IndexOfAny(Unsafe) < 0)
        {
            return value;
        }

        var text = new System.Text.StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }

        return text.ToString();
    }

    [LoggerMessage(EventId = 100, EventName = "TokenUsage", Message = "Token usage statistics: model={model} input_tokens={input_tokens} output_tokens={output_tokens} total_tokens={total_tokens} consumer={consumer} provider={provider} operation={operation} cached_tokens={cached_tokens} reasoning_tokens={reasoning_tokens} usage_source={usage_source} status={status} streaming={streaming} duration_ms={duration_ms} first_chunk_ms={first_chunk_ms} user={user} session_id={session_id} record_id={record_id} cost={cost} currency={currency} feature={feature}")]
    private static partial void LogUsage(
        ILogger logger,
        LogLevel level,
        string? model,
        long? input_tokens,
        long? output_tokens,
        long? total_tokens,
        string? consumer,
        string? provider,
        string? operation,
        long? cached_tokens,
        long? reasoning_tokens,
        string usage_source,
        string status,
        bool streaming,
        double duration_ms,
        double? first_chunk_ms,
        string? user,
        string? session_id,
        string record_id,
        decimal? cost,
        string? currency,
        string? feature);
}

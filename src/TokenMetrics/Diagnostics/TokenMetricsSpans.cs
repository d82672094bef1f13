using System.Diagnostics;

namespace TokenMetrics.Internal;

/// <summary>TokenMetrics on traces: a GenAI client span per metered call when none exists (OpenTelemetry GenAI semantic conventions),
/// or TokenMetrics' numbers on the GenAI span that does exist (Microsoft.Extensions.AI's <c>OpenTelemetryChatClient</c>).</summary>
/// <remarks>
/// <para>A span TokenMetrics starts travels with the record (<see cref="TokenUsageRecord.Span"/>) and is stopped exactly once: when the
/// record is delivered (<see cref="Complete"/>, after pricing and any background estimate, so it carries the record's numbers, with
/// its end set to the call's real end), or by <see cref="Abort"/> on every path where the record goes nowhere.</para>
/// <para>Nobody listening: one <see cref="Activity.Current"/> read and <see cref="ActivitySource.HasListeners"/>, no allocation.
/// Prompt and answer text never go on a span.</para>
/// </remarks>
internal static class TokenMetricsSpans
{
    /// <summary>The source of TokenMetrics' own spans.</summary>
    public static readonly ActivitySource Source = new(TokenMetricsDiagnostics.ActivitySourceName, ThisAssembly.Version);

    private const string OperationName = "gen_ai.operation.name";
    private const string ProviderName = "gen_ai.provider.name";
    private const string RequestModel = "gen_ai.request.model";
    private const string ResponseModel = "gen_ai.response.model";
    private const string ResponseId = "gen_ai.response.id";
    private const string InputTokens = "gen_ai.usage.input_tokens";
    private const string OutputTokens = "gen_ai.usage.output_tokens";
    private const string CacheReadTokens = "gen_ai.usage.cache_read.input_tokens";
    private const string CacheCreationTokens = "gen_ai.usage.cache_creation.input_tokens";
    private const string ReasoningTokens = "gen_ai.usage.reasoning.output_tokens";
    private const string ConversationId = "gen_ai.conversation.id";
    private const string Cost = "tokenmetrics.cost";
    private const string Currency = "tokenmetrics.currency";
    private const string UsageSource = "tokenmetrics.usage.source";

    /// <summary>HTTP layer, just before the request goes to the inner handler (synchronously, in the frame of <c>SendAsync</c>, so
    /// that the span is current for the <c>HttpClient</c> span created beneath). Returns the existing GenAI span to enrich, or a new
    /// one, or <see langword="null"/>.</summary>
    public static Activity? StartHttp(TokenUsageRecorder recorder, TokenUsageProtocolContext context)
    {
        try
        {
            if (!recorder.Options.Tracing.Enabled)
            {
                return null;
            }

            var current = Activity.Current;
            if (current is not null && IsGenAIInference(current))
            {
                return current;
            }

            if (!Source.HasListeners())
            {
                return null;
            }

            var operation = context.Operation ?? "chat";
            var activity = Source.StartActivity(SpanName(operation, context.RequestModel), ActivityKind.Client);
            if (activity is { IsAllDataRequested: true })
            {
                _ = activity.SetTag(OperationName, operation).SetTag(ProviderName, context.Provider).SetTag(RequestModel, context.RequestModel);
            }

            return activity;
        }
        catch (Exception ex)
        {
            recorder.ReportInternalError(nameof(StartHttp), ex);
            return null;
        }
    }

    /// <summary>After the inner handler returned: a synchronous <c>Send</c> would otherwise leave TokenMetrics' span current in the
    /// caller (an async <c>SendAsync</c> restores it by itself).</summary>
    public static void LeaveCurrent(Activity? span)
    {
        if (span is not null && ReferenceEquals(Activity.Current, span) && IsOwn(span))
        {
            Activity.Current = span.Parent;
        }
    }

    /// <summary>Chat-client layer, when the client records a round itself (nothing metered beneath): the existing GenAI span
    /// <paramref name="parent"/> is enriched; otherwise, unless an <c>OpenTelemetryChatClient</c> beneath already made the round's span,
    /// a span is started now with the round's real start time, as a child of <paramref name="parent"/>.</summary>
    public static void AttachChatRound(TokenUsageRecorder recorder, TokenUsageRecord record, Activity? parent, bool telemetryBeneath, TimeSpan sinceStart)
    {
        try
        {
            if (!recorder.Options.Tracing.Enabled)
            {
                return;
            }

            if (parent is not null && IsGenAIInference(parent))
            {
                record.Span = parent;
                return;
            }

            if (telemetryBeneath || !Source.HasListeners())
            {
                return;
            }

            var previous = Activity.Current;
            Activity? activity;
            try
            {
                Activity.Current = parent;
                activity = Source.StartActivity(SpanName(record.Operation ?? "chat", record.RequestModel), ActivityKind.Client, parentContext: default, startTime: DateTimeOffset.UtcNow - sinceStart);
            }
            finally
            {
                Activity.Current = previous;
            }

            record.Span = activity;
        }
        catch (Exception ex)
        {
            recorder.ReportInternalError(nameof(AttachChatRound), ex);
        }
    }

    /// <summary>The pipeline's span step (after pricing): stops TokenMetrics' span with the record's numbers and the call's real end,
    /// or adds TokenMetrics' numbers to an existing GenAI span that is still running. Never throws.</summary>
    public static void Complete(TokenUsageRecorder recorder, TokenUsageRecord record)
    {
        if (record.Span is not { } span)
        {
            return;
        }

        try
        {
            if (span.IsStopped)
            {
                return;
            }

            if (!IsOwn(span))
            {
                Enrich(span, record);
                return;
            }

            if (span.IsAllDataRequested)
            {
                SetRecordTags(span, record, recorder.Options.Tracing);
            }

            if (record.Duration > TimeSpan.Zero)
            {
                span.SetEndTime(span.StartTimeUtc + record.Duration);
            }

            Stop(span);
        }
        catch (Exception ex)
        {
            recorder.ReportInternalError(nameof(Complete), ex);
            Abort(span);
        }
    }

    /// <summary>The record goes nowhere (an internal error before delivery): TokenMetrics' span is stopped as it stands.</summary>
    public static void Abort(Activity? span)
    {
        try
        {
            if (span is { IsStopped: false } && IsOwn(span))
            {
                Stop(span);
            }
        }
        catch (Exception)
        {
            // Stopping runs listeners' callbacks; nothing of theirs may reach the app.
        }
    }

    private static bool IsOwn(Activity span) => ReferenceEquals(span.Source, Source);

    /// <summary>A GenAI inference span someone else started (an <c>OpenTelemetryChatClient</c>, whatever its source name): tool,
    /// agent and workflow spans carry <c>gen_ai.operation.name</c> too, and must not receive a model call's usage.</summary>
    private static bool IsGenAIInference(Activity activity) =>
        !activity.IsStopped && !IsOwn(activity) &&
        activity.GetTagItem(OperationName) is "chat" or "text_completion" or "generate_content" or "embeddings";

    private static string SpanName(string operation, string? model) => model is null ? operation : operation + " " + model;

    private static void Stop(Activity span)
    {
        // Stop makes the span's parent current where it runs (the app's read, the estimation thread): keep that context as it was.
        var current = Activity.Current;
        span.Stop();
        if (!ReferenceEquals(current, span) && !ReferenceEquals(Activity.Current, current))
        {
            Activity.Current = current;
        }
    }

    private static void SetRecordTags(Activity span, TokenUsageRecord record, TokenMetricsTracingOptions options)
    {
        var operation = record.Operation ?? "chat";
        var name = SpanName(operation, record.RequestModel);
        if (!string.Equals(span.DisplayName, name, StringComparison.Ordinal))
        {
            span.DisplayName = name;
        }

        _ = span.SetTag(OperationName, operation)
            .SetTag(ProviderName, record.Provider)
            .SetTag(RequestModel, record.RequestModel)
            .SetTag(ResponseModel, record.ResponseModel)
            .SetTag(ResponseId, record.ResponseId)
            .SetTag("server.address", record.ServerAddress)
            .SetTag("server.port", record.ServerPort);
        SetUsage(span, record.Usage, add: false);
        _ = span.SetTag("tokenmetrics.status", TokenUsageNames.Status(record.Status))
            .SetTag(UsageSource, TokenUsageNames.Source(record.Source))
            .SetTag("tokenmetrics.estimation.method", record.EstimationMethod);
        if (record.Cost is { } cost)
        {
            _ = span.SetTag(Cost, (double)cost).SetTag(Currency, record.Currency);
        }

        if (options.IncludeUserId)
        {
            _ = span.SetTag("user.id", record.UserId);
        }

        if (options.IncludeSessionId)
        {
            _ = span.SetTag(ConversationId, record.SessionId);
        }

        if (record.Status != TokenUsageStatus.Ok)
        {
            var errorType = record.ErrorType ?? TokenUsageNames.Status(record.Status);
            _ = span.SetTag("error.type", errorType).SetStatus(ActivityStatusCode.Error, errorType);
        }
    }

    /// <summary>Adds TokenMetrics' numbers to a GenAI span it does not own, while it runs. Counts are set only when the span has none of
    /// its owner's (the owner's own figures win); several records on one span (a tool loop beneath an <c>OpenTelemetryChatClient</c>)
    /// add up, and the usage source is the least certain of them.</summary>
    private static void Enrich(Activity span, TokenUsageRecord record)
    {
        if (!span.IsAllDataRequested)
        {
            return;
        }

        var previousSource = span.GetTagItem(UsageSource) as string;
        var ours = previousSource is not null;
        if (ours || (span.GetTagItem(InputTokens) is null && span.GetTagItem(OutputTokens) is null))
        {
            SetUsage(span, record.Usage, add: ours);
        }

        var source = TokenUsageNames.Source(record.Source);
        if (previousSource is not null && Rank(previousSource) > Rank(source))
        {
            source = previousSource;
        }

        _ = span.SetTag(UsageSource, source);
        if (record.Cost is { } cost)
        {
            var sum = (double)cost + (span.GetTagItem(Cost) is double earlier ? earlier : 0);
            _ = span.SetTag(Cost, sum).SetTag(Currency, record.Currency);
        }

        static int Rank(string source) => source switch
        {
            "reported" => 0,
            "estimated" => 1,
            _ => 2,
        };
    }

    private static void SetUsage(Activity span, TokenUsage usage, bool add)
    {
        Set(span, InputTokens, usage.InputTokenCount, add);
        Set(span, OutputTokens, usage.OutputTokenCount, add);
        Set(span, CacheReadTokens, usage.CachedInputTokenCount, add);
        Set(span, CacheCreationTokens, usage.CacheWriteInputTokenCount, add);
        Set(span, ReasoningTokens, usage.ReasoningTokenCount, add);

        static void Set(Activity span, string name, long? value, bool add)
        {
            if (value is not { } count)
            {
                return;
            }

            if (add && span.GetTagItem(name) is { } earlier)
            {
                count += earlier switch
                {
                    long l => l,
                    int i => i,
                    _ => 0,
                };
            }

            _ = span.SetTag(name, count);
        }
    }
}

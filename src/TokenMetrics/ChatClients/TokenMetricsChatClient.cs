using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>An <see cref="IChatClient"/> decorator that records the token usage of every model round-trip, streamed or not.</summary>
/// <remarks>
/// <para>Add it with <c>ChatClientBuilder.UseTokenMetrics()</c>. Usage comes from <see cref="ChatResponse.Usage"/> or the streamed
/// <see cref="UsageContent"/>; within one response streamed usage is cumulative and merged "latest value per field" (never summed).
/// When nothing is reported the usage is estimated and flagged.</para>
/// <para>One model round-trip, one record (each is billed on its own); every round of one logical call shares
/// <see cref="TokenUsageRecord.OperationId"/> and carries its <see cref="TokenUsageRecord.RoundIndex"/>. With
/// <c>UseFunctionInvocation()</c> around this client, each round is its own call here, and a round that sends tool results back
/// is linked to the round that asked for them by the tool call ids. With this client around the loop, a stream is split into rounds
/// at the loop's tool-result updates (or a new response id); a non-streamed loop returns only the summed usage, which becomes one
/// record with no round index unless a metered <c>HttpClient</c> beneath records each round.</para>
/// <para>The meter closest to the wire records: when the inner client talks HTTP through a <see cref="TokenMetricsHandler"/> (or
/// through another <see cref="TokenMetricsChatClient"/>), that meter records each round-trip, stamped with this client's attribution,
/// operation id and round index, and this client records nothing.</para>
/// <para>Streams are recorded in a <see langword="finally"/> block: a stream the app abandons is recorded as cancelled.</para>
/// </remarks>
public sealed class TokenMetricsChatClient : DelegatingChatClient
{
    /// <summary>Bounds the tool calls remembered to link a later round to its operation (a caller that never answers its tool calls).</summary>
    private const int MaxPendingToolCalls = 1024;

    private readonly TokenUsageRecorder _recorder;
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<string, RoundLink> _pendingToolCalls = new(StringComparer.Ordinal);
    private readonly Queue<string> _pendingOrder = new();
    private PipelineInfo? _pipeline;
    private int _pendingCount;

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsChatClient"/> class.</summary>
    /// <param name="innerClient">The client to meter.</param>
    /// <param name="recorder">Where records go.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public TokenMetricsChatClient(IChatClient innerClient, TokenUsageRecorder recorder)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _recorder = recorder;
    }

    /// <summary>Gets or sets the name recorded as <see cref="TokenUsageRecord.ClientName"/>.</summary>
    public string? ClientName { get; set; }

    /// <summary>Gets or sets the provider name to record; defaults to the inner client's <see cref="ChatClientMetadata.ProviderName"/>.</summary>
    public string? ProviderName { get; set; }

    /// <summary>Gets or sets a value indicating whether the records of this client (and of metered <c>HttpClient</c>s beneath it) feed
    /// TokenMetrics' own OpenTelemetry GenAI instruments (<c>gen_ai.client.token.usage</c>, <c>gen_ai.client.operation.duration</c>,
    /// <c>gen_ai.client.operation.time_to_first_chunk</c>).</summary>
    /// <value><see langword="null"/> (the default): automatic, <see langword="false"/> when an <see cref="OpenTelemetryChatClient"/>
    /// (<c>UseOpenTelemetry()</c>) is beneath this client in the pipeline, since it records the same instruments for the same calls;
    /// <see langword="true"/> otherwise. Set <see langword="false"/> when <c>UseOpenTelemetry()</c> sits above <c>UseTokenMetrics()</c>
    /// (this client cannot see clients above it). Records, stores and the <c>tokenmetrics.*</c> instruments are never affected.</value>
    public bool? RecordGenAIMetrics { get; set; }

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!_recorder.Settings.Enabled)
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }

        var call = Begin(messages, options, streaming: false);
        ChatResponse? response = null;
        Exception? error = null;
        try
        {
            if (_recorder.Settings.Budgets is { } budgets)
            {
                await CheckBudgetsAsync(budgets, call, messages, options, cancellationToken);
            }

            response = await base.GetResponseAsync(messages, options, cancellationToken);
            return response;
        }
        catch (Exception ex)
        {
            error = ex;
            throw;
        }
        finally
        {
            CallScope.Current = call.PreviousScope;
            if (response is not null)
            {
                ObserveResponse(call, response);
            }

            Finish(call, messages, options, error, completed: response is not null);
        }
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!_recorder.Settings.Enabled)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                yield return update;
            }

            yield break;
        }

        var call = Begin(messages, options, streaming: true);
        Exception? error = null;
        var completed = false;
        IAsyncEnumerator<ChatResponseUpdate>? enumerator = null;
        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    // An async iterator restores the caller's async-local state on every MoveNextAsync, so the scope is
                    // re-established around each step for a meter beneath to see it.
                    CallScope.Current = call.Scope;
                    if (enumerator is null && _recorder.Settings.Budgets is { } budgets)
                    {
                        await CheckBudgetsAsync(budgets, call, messages, options, cancellationToken);
                    }

                    enumerator ??= base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
                    if (!await enumerator.MoveNextAsync())
                    {
                        completed = true;
                        break;
                    }

                    update = enumerator.Current;
                }
                catch (Exception ex)
                {
                    error = ex;
                    throw;
                }
                finally
                {
                    CallScope.Current = call.PreviousScope;
                }

                Observe(call, messages, options, update);
                yield return update;
            }
        }
        finally
        {
            CallScope.Current = call.PreviousScope;
            if (enumerator is not null)
            {
                await enumerator.DisposeAsync();
            }

            Finish(call, messages, options, error, completed);
        }
    }

    /// <summary>The pre-flight budget check (src/TokenMetrics/Budgets): estimates the messages and the requested maximum output and
    /// reserves them; throws <see cref="TokenBudgetExceededException"/> when a budget refuses. A chat client beneath another
    /// leaves the check to the outer one.</summary>
    private async ValueTask CheckBudgetsAsync(IReadOnlyList<TokenUsageBudget> budgets, CallState call, IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (call.PreviousScope is not null)
        {
            return;
        }

        BudgetRejection? rejection;
        try
        {
            var input = _recorder.Estimator.CountMessages(messages, options, call.RequestModel).Tokens;
            var maxOutput = options?.MaxOutputTokens is { } max and > 0 ? max : 0;
            (call.Scope.Budget, rejection) = await _recorder.Budgets.ReserveAsync(budgets, new BudgetCall(call.Scope.Attribution, call.RequestModel, call.Provider, null), input, maxOutput, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _recorder.ReportInternalError("Budget.Check", ex); // fail open
            return;
        }

        if (rejection is not null)
        {
            call.Rejected = true;
            throw rejection.ToException();
        }
    }

    private CallState Begin(IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming)
    {
        var pipeline = GetPipeline();
        var outer = CallScope.Current;
        var skipGenAI = RecordGenAIMetrics is { } record ? !record : pipeline.OpenTelemetryBeneath;
        Guid operationId;
        int firstRound;
        if (outer is not null)
        {
            // Another TokenMetricsChatClient above: this one is closer to the wire, so it records, in the outer operation.
            operationId = outer.OperationId;
            firstRound = outer.BeginRoundBeneath();
            skipGenAI |= outer.GenAIMetricsRecordedElsewhere;
        }
        else if (TryContinueOperation(messages, out var link))
        {
            operationId = link.OperationId;
            firstRound = link.RoundIndex + 1;
        }
        else
        {
            operationId = Internal.RecordIds.NewVersion7();
            firstRound = 0;
        }

        // Resolved once per call: this call's ChatOptions over the attribution of a chat client above (or the scope and baggage).
        var attribution = AttributionResolver.ForChatCall(options, outer is not null ? outer.Attribution : AttributionResolver.Ambient(_recorder.Attribution));
        var scope = new CallScope(ClientName ?? outer?.ClientName, attribution, operationId, firstRound, pipeline.LoopBeneath, skipGenAI);
        var now = _recorder.TimeProvider.GetTimestamp();
        var call = new CallState
        {
            Scope = scope,
            PreviousScope = outer,
            Streaming = streaming,
            RequestModel = options?.ModelId ?? pipeline.Metadata?.DefaultModelId,
            Provider = ProviderName ?? pipeline.Metadata?.ProviderName,
            Endpoint = pipeline.Metadata?.ProviderUri,
            ParentActivity = System.Diagnostics.Activity.Current,
            Round = new RoundState { StartTimestamp = now, StartTime = _recorder.TimeProvider.GetUtcNow() },
            CaptureContent = _recorder.Settings.CaptureContent,
        };
        call.Round.Content = call.NewContent(_recorder);
        CallScope.Current = scope;
        return call;
    }

    private void ObserveResponse(CallState call, ChatResponse response)
    {
        try
        {
            var round = call.Round;
            round.Usage = FromUsageDetails(response.Usage);
            round.ResponseModel = response.ModelId;
            round.ResponseId = response.ResponseId;
            round.Response = response; // its text is read only if the usage must be estimated (see ResolveUsage)
            if (round.Content is { } capture)
            {
                ChatContent.Observe(capture, response);
            }

            // A tool loop beneath returns every round's messages with the summed usage: one record for all of them.
            // Index loops over the lists: a foreach through IList<T> boxes an enumerator per list, on every call.
            HashSet<string>? answered = null;
            var responseMessages = response.Messages;
            for (var m = 0; m < responseMessages.Count; m++)
            {
                var contents = responseMessages[m].Contents;
                for (var c = 0; c < contents.Count; c++)
                {
                    if (contents[c] is FunctionResultContent result)
                    {
                        (answered ??= new(StringComparer.Ordinal)).Add(result.CallId);
                    }
                }
            }

            for (var m = 0; m < responseMessages.Count; m++)
            {
                var contents = responseMessages[m].Contents;
                for (var c = 0; c < contents.Count; c++)
                {
                    if (contents[c] is FunctionCallContent { CallId: { Length: > 0 } callId } && answered?.Contains(callId) != true)
                    {
                        (round.ToolCalls ??= []).Add(callId);
                    }
                }
            }

            call.AggregatesRounds = answered is not null;
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(ObserveResponse), ex);
        }
    }

    private void Observe(CallState call, IEnumerable<ChatMessage> messages, ChatOptions? options, ChatResponseUpdate update)
    {
        try
        {
            var isToolResult = update.Role == ChatRole.Tool;
            var updateContents = update.Contents;
            for (var c = 0; !isToolResult && c < updateContents.Count; c++)
            {
                isToolResult = updateContents[c] is FunctionResultContent;
            }

            if (isToolResult)
            {
                // A tool loop beneath streams the results it sends back; the next model update starts the next round.
                // Its synthetic response id must not count as a new response.
                call.ToolResultsTimestamp = _recorder.TimeProvider.GetTimestamp();
                call.ToolResultsTime = _recorder.TimeProvider.GetUtcNow();
                return;
            }

            var round = call.Round;
            var newResponse = update.ResponseId is { Length: > 0 } id && round.ResponseId is not null && !string.Equals(id, round.ResponseId, StringComparison.Ordinal);
            if (call.ToolResultsTimestamp != 0 || newResponse)
            {
                // The previous round is complete: record it now, with its own duration.
                var start = call.ToolResultsTimestamp != 0 ? call.ToolResultsTimestamp : _recorder.TimeProvider.GetTimestamp();
                var startTime = call.ToolResultsTimestamp != 0 ? call.ToolResultsTime : _recorder.TimeProvider.GetUtcNow();
                EmitRound(call, messages, options, TokenUsageStatus.Ok, error: null, end: start);
                round = call.Round = new RoundState { StartTimestamp = start, StartTime = startTime, LocalIndex = round.LocalIndex + 1, Content = call.NewContent(_recorder) };
                call.ToolResultsTimestamp = 0;
            }

            if (round.FirstChunkTimestamp == 0)
            {
                round.FirstChunkTimestamp = _recorder.TimeProvider.GetTimestamp();
            }

            round.ResponseModel ??= update.ModelId;
            if (update.ResponseId is { Length: > 0 } responseId)
            {
                round.ResponseId = responseId;
            }

            for (var c = 0; c < updateContents.Count; c++)
            {
                var content = updateContents[c];
                if (round.Content is { } capture)
                {
                    ChatContent.Observe(capture, content);
                }

                switch (content)
                {
                    case UsageContent usage:
                        round.Usage = (round.Usage ?? TokenUsage.Empty).MergeLatest(FromUsageDetails(usage.Details));
                        break;
                    case TextContent text:
                        round.Output.Append(text.Text);
                        break;
                    case TextReasoningContent reasoning:
                        round.Output.Append(reasoning.Text);
                        break;
                    case FunctionCallContent { CallId: { Length: > 0 } callId }:
                        (round.ToolCalls ??= []).Add(callId);
                        break;
                }
            }
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(Observe), ex);
        }
    }

    private void Finish(CallState call, IEnumerable<ChatMessage> messages, ChatOptions? options, Exception? error, bool completed)
    {
        var status = error switch
        {
            null when completed => TokenUsageStatus.Ok,
            null => TokenUsageStatus.Cancelled,
            OperationCanceledException => TokenUsageStatus.Cancelled,
            TokenBudgetExceededException when call.Rejected => TokenUsageStatus.Rejected,
            _ => TokenUsageStatus.Error,
        };
        EmitRound(call, messages, options, status, error, _recorder.TimeProvider.GetTimestamp());
    }

    private void EmitRound(CallState call, IEnumerable<ChatMessage> messages, ChatOptions? options, TokenUsageStatus status, Exception? error, long end)
    {
        var round = call.Round;
        try
        {
            var roundIndex = call.Scope.FirstRound + round.LocalIndex;
            if (status == TokenUsageStatus.Ok && round.ToolCalls is { Count: > 0 } toolCalls && !call.AggregatesRounds)
            {
                // The model asked for tools and nothing beneath answers them: the request that sends the results back is the next
                // round of this operation (a loop above this client, or the app's own).
                RememberToolCalls(toolCalls, new RoundLink(call.Scope.OperationId, roundIndex));
            }

            if (call.Scope.RecordedBeneath > 0)
            {
                // A meter beneath recorded each round-trip; recording here would count the call twice.
                return;
            }

            var (usage, source, method, pending) = ResolveUsage(call, round, messages, options, status);
            var endpoint = EndpointCache.Get(call.Endpoint); // parsed once per distinct URI, not a new string per call
            var record = new TokenUsageRecord
            {
                Timestamp = round.StartTime,
                Provider = call.Provider,
                Operation = "chat",
                RequestModel = call.RequestModel,
                ResponseModel = round.ResponseModel,
                ResponseId = round.ResponseId,
                IsStreaming = call.Streaming,
                Status = status,
                ErrorType = status switch
                {
                    TokenUsageStatus.Ok => null,
                    TokenUsageStatus.Cancelled when error is null => "cancelled",
                    _ => error?.GetType().FullName,
                },
                Duration = _recorder.TimeProvider.GetElapsedTime(round.StartTimestamp, end),
                TimeToFirstChunk = call.Streaming && round.FirstChunkTimestamp != 0 ? _recorder.TimeProvider.GetElapsedTime(round.StartTimestamp, round.FirstChunkTimestamp) : null,
                Endpoint = endpoint?.Endpoint,
                ServerAddress = endpoint?.Host,
                ServerPort = endpoint?.Port,
                Usage = usage,
                Source = source,
                EstimationMethod = method,
                UserId = call.Scope.Attribution?.UserId,
                Consumer = call.Scope.Attribution?.Consumer,
                SessionId = call.Scope.Attribution?.SessionId,
                Feature = call.Scope.Attribution?.Feature,
                Tags = call.Scope.Attribution?.Tags,
                ClientName = call.Scope.ClientName,
                Layer = TokenUsageLayer.ChatClient,
                OperationId = call.Scope.OperationId,
                RoundIndex = call.AggregatesRounds ? null : roundIndex,
                GenAIMetricsRecordedElsewhere = call.Scope.GenAIMetricsRecordedElsewhere,
                Content = BuildContent(round, messages),
                Budget = status == TokenUsageStatus.Rejected ? null : call.Scope.TakeBudget(),
            };
            TokenMetricsSpans.AttachChatRound(_recorder, record, call.ParentActivity, GetPipeline().OpenTelemetryBeneath, _recorder.TimeProvider.GetElapsedTime(round.StartTimestamp));
            if (pending is not null)
            {
                _recorder.RecordWithEstimate(record, pending);
            }
            else
            {
                _recorder.Record(record);
            }
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(EmitRound), ex);
        }
        finally
        {
            round.OutputIfAny?.Reset();
            round.Response = null;
        }
    }

    private TokenUsageContent? BuildContent(RoundState round, IEnumerable<ChatMessage> messages)
    {
        if (round.Content is not { } capture)
        {
            return null;
        }

        try
        {
            ChatContent.SetQuestion(capture, messages);
            return capture.Build();
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(BuildContent), ex);
            return null;
        }
    }

    /// <summary>Reported usage, or what to estimate from; the estimate runs on the recorder's background side, not here.</summary>
    private (TokenUsage Usage, TokenUsageSource Source, string? Method, PendingEstimate? Pending) ResolveUsage(CallState call, RoundState round, IEnumerable<ChatMessage> messages, ChatOptions? options, TokenUsageStatus status)
    {
        if (TokenUsageRecorder.TryUseReported(round.Usage, out var reported))
        {
            return (reported, TokenUsageSource.Reported, null, null);
        }

        if (!_recorder.ShouldEstimate(status))
        {
            return (TokenUsage.Empty, TokenUsageSource.Missing, null, null);
        }

        try
        {
            // Later rounds of a loop beneath send more than the caller's messages (the tool exchanges): their input estimate is a lower bound.
            var model = call.RequestModel ?? round.ResponseModel;
            if (round.Response is { } response)
            {
                round.Output.Append(response.Text);
            }

            return (TokenUsage.Empty, TokenUsageSource.Missing, null, new PendingChatEstimate(messages, options, round.OutputIfAny?.Detach(), model));
        }
        catch (Exception ex)
        {
            // Enumerating the app's messages threw: record without an estimate.
            _recorder.ReportInternalError(nameof(ITokenEstimator), ex);
            return (TokenUsage.Empty, TokenUsageSource.Missing, null, null);
        }
    }

    /// <summary>Finds the round that asked for the tool results this request sends back (its trailing tool messages).</summary>
    private bool TryContinueOperation(IEnumerable<ChatMessage> messages, out RoundLink link)
    {
        link = default;
        try
        {
            // Only lists are read here: any other enumerable may be expensive or single-use, and belongs to the inner client.
            if (Volatile.Read(ref _pendingCount) == 0 || messages is not IReadOnlyList<ChatMessage> list)
            {
                return false;
            }

            var found = false;
            lock (_pendingLock)
            {
                for (var i = list.Count - 1; i >= 0; i--)
                {
                    var message = list[i];
                    var anyResult = false;
                    foreach (var content in message.Contents)
                    {
                        if (content is FunctionResultContent { CallId: { Length: > 0 } callId })
                        {
                            anyResult = true;
                            if (_pendingToolCalls.Remove(callId, out var candidate))
                            {
                                link = found && link.RoundIndex >= candidate.RoundIndex ? link : candidate;
                                found = true;
                            }
                        }
                    }

                    if (!anyResult && message.Role != ChatRole.Tool)
                    {
                        break;
                    }
                }

                Volatile.Write(ref _pendingCount, _pendingToolCalls.Count);
            }

            return found;
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(TryContinueOperation), ex);
            return false;
        }
    }

    private void RememberToolCalls(List<string> callIds, RoundLink link)
    {
        lock (_pendingLock)
        {
            foreach (var callId in callIds)
            {
                if (_pendingToolCalls.TryAdd(callId, link))
                {
                    _pendingOrder.Enqueue(callId);
                }
            }

            // Oldest first; ids already consumed are skipped (the queue may hold stale ids, bounded by the same limit).
            while (_pendingToolCalls.Count > MaxPendingToolCalls || _pendingOrder.Count > 2 * MaxPendingToolCalls)
            {
                _ = _pendingToolCalls.Remove(_pendingOrder.Dequeue());
            }

            Volatile.Write(ref _pendingCount, _pendingToolCalls.Count);
        }
    }

    private PipelineInfo GetPipeline()
    {
        if (_pipeline is { } known)
        {
            return known;
        }

        ChatClientMetadata? metadata = null;
        bool loop = false, telemetry = false;
        try
        {
            metadata = InnerClient.GetService(typeof(ChatClientMetadata)) as ChatClientMetadata;
            loop = InnerClient.GetService(typeof(FunctionInvokingChatClient)) is not null;
            telemetry = InnerClient.GetService(typeof(OpenTelemetryChatClient)) is not null;
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(GetPipeline), ex);
        }

        return _pipeline = new PipelineInfo(metadata, loop, telemetry);
    }

    /// <summary>Maps MEAI usage (same semantics: cached inside input, reasoning inside output) to <see cref="TokenUsage"/>.</summary>
    internal static TokenUsage? FromUsageDetails(UsageDetails? details)
    {
        if (details is null)
        {
            return null;
        }

        long? cacheWrite = null;
        Dictionary<string, long>? inputDetails = null;
        Dictionary<string, long>? outputDetails = null;
        if (details.AdditionalCounts is { Count: > 0 } extra)
        {
            foreach (var (key, value) in extra)
            {
                if (key.Contains("cache_creation", StringComparison.OrdinalIgnoreCase) || key.Contains("CacheCreation", StringComparison.Ordinal) || key.Contains("CacheWrite", StringComparison.OrdinalIgnoreCase))
                {
                    cacheWrite = (cacheWrite ?? 0) + value;
                }

                var isInput = key.Contains("input", StringComparison.OrdinalIgnoreCase) || key.Contains("prompt", StringComparison.OrdinalIgnoreCase) || key.Contains("cache", StringComparison.OrdinalIgnoreCase);
                var target = isInput ? (inputDetails ??= new(StringComparer.Ordinal)) : (outputDetails ??= new(StringComparer.Ordinal));
                target[key] = value;
            }
        }

        return new TokenUsage
        {
            InputTokenCount = details.InputTokenCount,
            OutputTokenCount = details.OutputTokenCount,
            TotalTokenCount = details.TotalTokenCount,
            CachedInputTokenCount = details.CachedInputTokenCount,
            CacheWriteInputTokenCount = cacheWrite,
            ReasoningTokenCount = details.ReasoningTokenCount,
            InputTokenDetails = inputDetails,
            OutputTokenDetails = outputDetails,
        };
    }


    private sealed record PipelineInfo(ChatClientMetadata? Metadata, bool LoopBeneath, bool OpenTelemetryBeneath);

    private readonly record struct RoundLink(Guid OperationId, int RoundIndex);

    private sealed class CallState
    {
        public required CallScope Scope { get; init; }

        public CallScope? PreviousScope { get; init; }

        public bool Streaming { get; init; }

        /// <summary>Gets or sets a value indicating whether a budget refused the call (nothing was sent).</summary>
        public bool Rejected { get; set; }

        public string? RequestModel { get; init; }

        public string? Provider { get; init; }

        public Uri? Endpoint { get; init; }

        /// <summary>Gets the span current when the call began: the parent of a span this client starts, or the GenAI span to enrich.</summary>
        public System.Diagnostics.Activity? ParentActivity { get; init; }

        public required RoundState Round { get; set; }

        /// <summary>Gets a value indicating whether content capture was on when the call began (read once per call).</summary>
        public bool CaptureContent { get; init; }

        public ContentCapture? NewContent(TokenUsageRecorder recorder) => CaptureContent ? new ContentCapture(recorder.ContentPolicy) : null;

        /// <summary>Gets or sets a value indicating whether one non-streamed response holds several rounds (a tool loop beneath).</summary>
        public bool AggregatesRounds { get; set; }

        /// <summary>Gets or sets when the tool results of a loop beneath were last seen in the stream (0: none since the last round began).</summary>
        public long ToolResultsTimestamp { get; set; }

        public DateTimeOffset ToolResultsTime { get; set; }
    }

    private sealed class RoundState
    {
        private TokenUsageTextAccumulator? _output;

        public int LocalIndex { get; init; }

        public long StartTimestamp { get; init; }

        public DateTimeOffset StartTime { get; init; }

        public long FirstChunkTimestamp { get; set; }

        public string? ResponseModel { get; set; }

        public string? ResponseId { get; set; }

        public TokenUsage? Usage { get; set; }

        public List<string>? ToolCalls { get; set; }

        /// <summary>Gets the answer text kept for an estimate (created on first use: a reported usage needs none).</summary>
        public TokenUsageTextAccumulator Output => _output ??= new();

        /// <summary>Gets the answer text kept so far, or <see langword="null"/> when none was.</summary>
        public TokenUsageTextAccumulator? OutputIfAny => _output;

        /// <summary>Gets or sets the non-streamed answer, read for its text only when the usage must be estimated.</summary>
        public ChatResponse? Response { get; set; }

        /// <summary>Gets or sets the content captured for this round; <see langword="null"/> when capture is off.</summary>
        public ContentCapture? Content { get; set; }
    }
}

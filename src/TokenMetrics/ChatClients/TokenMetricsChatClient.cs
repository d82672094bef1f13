using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>An <see cref="IChatClient"/> decorator that records the token usage of every call, streamed or not.</summary>
/// <remarks>
/// <para>Usage comes from <see cref="ChatResponse.Usage"/> or the streamed <see cref="UsageContent"/>. Within one response,
/// streamed usage is cumulative and merged "latest value per field" (never summed); responses with different ids (rounds of
/// a tool-calling loop below this client) are summed. When nothing is reported the usage is estimated and flagged.</para>
/// <para>Streams are recorded in a <see langword="finally"/> block: a stream the app abandons is recorded as cancelled.</para>
/// <para>One logical call, one record: when the inner client talks HTTP through a <see cref="TokenMetricsHandler"/>, the
/// handler (which sees the wire) records the call, stamped with this client's attribution, and this client records nothing.</para>
/// </remarks>
public sealed class TokenMetricsChatClient : DelegatingChatClient
{
    private readonly TokenUsageRecorder _recorder;
    private ChatClientMetadata? _metadata;
    private bool _metadataResolved;

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

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!_recorder.Options.Enabled)
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }

        var call = Begin(options, streaming: false);
        ChatResponse? response = null;
        Exception? error = null;
        try
        {
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
                call.Usage = FromUsageDetails(response.Usage);
                call.ResponseModel = response.ModelId;
                call.ResponseId = response.ResponseId;
                call.Output.Append(response.Text);
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
        if (!_recorder.Options.Enabled)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                yield return update;
            }

            yield break;
        }

        var call = Begin(options, streaming: true);
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
                    // re-established around each step for a metered HttpClient below to see it.
                    CallScope.Current = call.Scope;
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

                Observe(call, update);
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

    private CallState Begin(ChatOptions? options, bool streaming)
    {
        var metadata = GetMetadata();
        var scope = new CallScope(ClientName, options?.ConversationId, TokenMetricsScope.Current);
        var call = new CallState
        {
            Scope = scope,
            PreviousScope = CallScope.Current,
            Streaming = streaming,
            StartTimestamp = _recorder.TimeProvider.GetTimestamp(),
            StartTime = _recorder.TimeProvider.GetUtcNow(),
            RequestModel = options?.ModelId ?? metadata?.DefaultModelId,
            Provider = ProviderName ?? metadata?.ProviderName,
            Endpoint = metadata?.ProviderUri,
        };
        CallScope.Current = scope;
        return call;
    }

    private void Observe(CallState call, ChatResponseUpdate update)
    {
        try
        {
            if (call.FirstChunkTimestamp == 0)
            {
                call.FirstChunkTimestamp = _recorder.TimeProvider.GetTimestamp();
            }

            call.ResponseModel ??= update.ModelId;
            if (update.ResponseId is { Length: > 0 } id && !string.Equals(id, call.ResponseId, StringComparison.Ordinal))
            {
                // A new response: a new round of a loop below us; close the previous round's usage.
                if (call.ResponseId is not null && call.RoundUsage is not null)
                {
                    call.Usage = (call.Usage ?? TokenUsage.Empty).Add(call.RoundUsage);
                    call.RoundUsage = null;
                }

                call.ResponseId = id;
            }

            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case UsageContent usage:
                        call.RoundUsage = (call.RoundUsage ?? TokenUsage.Empty).MergeLatest(FromUsageDetails(usage.Details));
                        break;
                    case TextContent text:
                        call.Output.Append(text.Text);
                        break;
                    case TextReasoningContent reasoning:
                        call.Output.Append(reasoning.Text);
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
        try
        {
            if (call.Scope.HttpExchanges > 0)
            {
                // A metered HttpClient beneath us recorded each exchange; recording here would count the call twice.
                return;
            }

            if (call.RoundUsage is not null)
            {
                call.Usage = call.Usage is null ? call.RoundUsage : call.Usage.Add(call.RoundUsage);
            }

            var status = error switch
            {
                null when completed => TokenUsageStatus.Ok,
                null => TokenUsageStatus.Cancelled,
                OperationCanceledException => TokenUsageStatus.Cancelled,
                _ => TokenUsageStatus.Error,
            };
            var (usage, source, method, pending) = ResolveUsage(call, messages, options, status);
            var end = _recorder.TimeProvider.GetTimestamp();
            var record = new TokenUsageRecord
            {
                Timestamp = call.StartTime,
                Provider = call.Provider,
                Operation = "chat",
                RequestModel = call.RequestModel,
                ResponseModel = call.ResponseModel,
                ResponseId = call.ResponseId,
                IsStreaming = call.Streaming,
                Status = status,
                ErrorType = status switch
                {
                    TokenUsageStatus.Ok => null,
                    TokenUsageStatus.Cancelled when error is null => "cancelled",
                    _ => error?.GetType().FullName,
                },
                Duration = _recorder.TimeProvider.GetElapsedTime(call.StartTimestamp, end),
                TimeToFirstChunk = call.Streaming && call.FirstChunkTimestamp != 0 ? _recorder.TimeProvider.GetElapsedTime(call.StartTimestamp, call.FirstChunkTimestamp) : null,
                Endpoint = call.Endpoint is { IsAbsoluteUri: true } uri ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : null,
                ServerAddress = call.Endpoint is { IsAbsoluteUri: true } u2 ? u2.Host : null,
                ServerPort = call.Endpoint is { IsAbsoluteUri: true } u3 ? u3.Port : null,
                Usage = usage,
                Source = source,
                EstimationMethod = method,
                SessionId = options?.ConversationId,
                ClientName = ClientName,
                Layer = TokenUsageLayer.ChatClient,
            };
            record = TokenMetricsScope.Apply(record, call.Scope.Attribution);
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
            _recorder.ReportInternalError(nameof(Finish), ex);
        }
        finally
        {
            call.Output.Reset();
        }
    }

    /// <summary>Reported usage, or what to estimate from; the estimate runs on the recorder's background side, not here.</summary>
    private (TokenUsage Usage, TokenUsageSource Source, string? Method, PendingEstimate? Pending) ResolveUsage(CallState call, IEnumerable<ChatMessage> messages, ChatOptions? options, TokenUsageStatus status)
    {
        if (TokenUsageRecorder.TryUseReported(call.Usage, out var reported))
        {
            return (reported, TokenUsageSource.Reported, null, null);
        }

        if (!_recorder.ShouldEstimate(status))
        {
            return (TokenUsage.Empty, TokenUsageSource.Missing, null, null);
        }

        try
        {
            var model = call.RequestModel ?? call.ResponseModel;
            return (TokenUsage.Empty, TokenUsageSource.Missing, null, new PendingChatEstimate(messages, options, call.Output.Detach(), model));
        }
        catch (Exception ex)
        {
            // Enumerating the app's messages threw: record without an estimate.
            _recorder.ReportInternalError(nameof(ITokenEstimator), ex);
            return (TokenUsage.Empty, TokenUsageSource.Missing, null, null);
        }
    }

    private ChatClientMetadata? GetMetadata()
    {
        if (!_metadataResolved)
        {
            try
            {
                _metadata = InnerClient.GetService(typeof(ChatClientMetadata)) as ChatClientMetadata;
            }
            catch (Exception ex)
            {
                _recorder.ReportInternalError(nameof(GetMetadata), ex);
            }

            _metadataResolved = true;
        }

        return _metadata;
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

    private sealed class CallState
    {
        public required CallScope Scope { get; init; }

        public CallScope? PreviousScope { get; init; }

        public bool Streaming { get; init; }

        public long StartTimestamp { get; init; }

        public DateTimeOffset StartTime { get; init; }

        public string? RequestModel { get; init; }

        public string? Provider { get; init; }

        public Uri? Endpoint { get; init; }

        public long FirstChunkTimestamp { get; set; }

        public string? ResponseModel { get; set; }

        public string? ResponseId { get; set; }

        public TokenUsage? Usage { get; set; }

        public TokenUsage? RoundUsage { get; set; }

        public TokenUsageTextAccumulator Output { get; } = new();
    }
}

using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>The metering state of one HTTP exchange, from request to the last byte the app reads; finishes exactly once.</summary>
internal sealed class HttpCallMeter
{
    // Reads and the finish (which may come from Dispose on another thread) never overlap: the reader's pooled buffers
    // are returned on finish and must not be written afterwards. The lock is the meter itself (internal, never handed out):
    // one object fewer per call.
    private readonly TokenUsageRecorder _recorder;
    private readonly ITokenUsageProtocol _protocol;
    private readonly string? _clientName;
    private readonly TokenUsageAttribution? _attribution;
    private readonly CallScope? _scope; // the chat-client call above, if any: its operation id and GenAI flag, read when recording
    private readonly int _roundIndex = -1; // -1: no round (no chat-client call above); an int, not an int?, to keep the meter small
    private readonly long _startTimestamp;
    private readonly DateTimeOffset _startTime;
    private readonly Uri? _uri;
    private readonly ContentCapture? _content;
    private TokenUsageResponseReader? _reader;
    private StreamOutputCap? _cap;
    private byte[]? _compressed;
    private int _compressedLength;
    private string? _contentEncoding;
    private bool _compressedOverflow;
    private long _firstByteTimestamp;
    private int _finished;
    private bool _readerFailed;
    private int _statusCode; // 0 until a status is known (an int, not an int?, to keep the meter small); read through StatusCode
    private bool _httpError;
    private long _responseTimestamp;
    private bool _watched;
    private System.Diagnostics.Activity? _span;
    private BudgetReservation? _budget;

    public HttpCallMeter(TokenUsageRecorder recorder, ITokenUsageProtocol protocol, HttpRequestMessage request, TokenMetricsHandlerOptions options, string? clientName, CallScope? scope)
    {
        _recorder = recorder;
        _protocol = protocol;
        _clientName = scope?.ClientName ?? clientName;
        if (scope is not null)
        {
            // This exchange is one model round-trip of the chat-client call above; claiming it stops that client recording too.
            _roundIndex = scope.BeginRoundBeneath();
            _scope = scope;
            _budget = scope.TakeBudget(); // the chat-client call above checked its budgets; this record reconciles them
        }

        // Resolved once per call: the chat-client call above already did (its ChatOptions, scope, baggage); otherwise scope and baggage.
        _attribution = scope is not null ? scope.Attribution : AttributionResolver.Ambient(recorder.Attribution);
        _startTimestamp = recorder.TimeProvider.GetTimestamp();
        _startTime = recorder.TimeProvider.GetUtcNow();
        _uri = request.RequestUri;
        Context = new TokenUsageProtocolContext(request, options, protocol);

        // Off (the default): no capture object, so readers skip every content step.
        _content = recorder.Settings.CaptureContent ? new ContentCapture(recorder.ContentPolicy) : null;
    }

    public TokenUsageProtocolContext Context { get; }

    private int? StatusCode => _statusCode == 0 ? null : _statusCode;

    /// <summary>Gets the attribution headers and dimensions read from this call (src/TokenMetrics/Dimensions), if configured.</summary>
    public HttpDimensionCapture? Dimensions { get; init; }

    public string? TransformedMediaType => _reader?.TransformedMediaType;

    public bool TransformsContent => _reader is { TransformsContent: true } && _contentEncoding is null && !_readerFailed;

    public async ValueTask OnRequestAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Dimensions is { NeedsRequestBody: true } dimensions)
            {
                // Read (once, bounded) before the protocol runs, so paths see the app's body rather than a rewritten one.
                dimensions.OnRequestBody(await Context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false));
            }

            await _protocol.OnRequestAsync(Context, cancellationToken).ConfigureAwait(false);
            if (_content is { WantsQuestion: true })
            {
                // Read (bounded) for the question when the protocol did not need it; parsed only when the call ends.
                _ = await Context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NotSupportedException ex) when (_protocol is ITokenUsageRewriter)
        {
            // A rewrite that cannot express the request must not send a different one: the app gets a clear error.
            Finish(TokenUsageStatus.Error, ex.GetType().FullName, eof: false);
            throw;
        }
        catch (Exception ex)
        {
            // The request goes out as it is; the record just knows less.
            _recorder.ReportInternalError(_protocol.Name + ".OnRequestAsync", ex);
        }
    }

    /// <summary>The pre-flight budget check (src/TokenMetrics/Budgets): estimates the request (body + requested maximum output) and
    /// reserves it; returns the synthetic 429 to answer with, or <see langword="null"/> to send. The first round-trip of a
    /// chat-client call holds that call's reservation and is not checked again; later rounds of a tool loop beneath it check
    /// and reconcile their own (each is billed). Never throws except the <see cref="TokenBudgetExceededException"/> a budget asks for.</summary>
    public async ValueTask<HttpResponseMessage?> CheckBudgetsAsync(IReadOnlyList<TokenUsageBudget> budgets, CancellationToken cancellationToken)
    {
        if (_budget is not null)
        {
            return null;
        }

        BudgetRejection? rejection;
        try
        {
            long input = 0, maxOutput = 0;
            var model = Context.RoutedModel ?? Context.RequestModel;
            if (await Context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false) is { IsEmpty: false } body)
            {
                input = _recorder.Estimator.CountRequest(body.Span, model).Tokens;
                maxOutput = BudgetEnforcer.ReadMaxOutputTokens(body.Span);
            }

            (_budget, rejection) = await _recorder.Budgets.ReserveAsync(budgets, new BudgetCall(_attribution, model, Context.Provider, Context.Request), input, maxOutput, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _recorder.ReportInternalError("Budget.Check", ex); // fail open
            return null;
        }

        if (rejection is null)
        {
            return null;
        }

        if (rejection.Budget.Rejection == TokenUsageBudgetRejection.Exception)
        {
            Finish(TokenUsageStatus.Rejected, "budget_exceeded", eof: false);
            throw rejection.ToException();
        }

        _statusCode = 429;
        Finish(TokenUsageStatus.Rejected, "budget_exceeded", eof: false);
        return rejection.ToResponse(Context.Request, _recorder.TimeProvider.GetUtcNow());
    }

    /// <summary>Starts the call's GenAI span (or finds the existing one); synchronous, so that it is current for the inner handlers.</summary>
    public void StartSpan() => _span = Volatile.Read(ref _finished) == 0 ? TokenMetricsSpans.StartHttp(_recorder, Context) : null;

    /// <summary>Wraps the response body, or records at once when there is nothing to read.</summary>
    public void OnResponse(HttpResponseMessage response)
    {
        TokenMetricsSpans.LeaveCurrent(_span);
        try
        {
            _statusCode = (int)response.StatusCode;
            if (Dimensions is not null && !Dimensions.OnResponse(response, Context.Options.MaxInspectedResponseBytes, Context.Options.MaxSseEventBytes))
            {
                // Filtered out by content type: the body passes through unwrapped and nothing is recorded.
                Finish(TokenUsageStatus.Ok, null, eof: false);
                return;
            }

            if (!response.IsSuccessStatusCode && _protocol is ITokenUsageRewriter)
            {
                // The vendor's error still has to reach the app in OpenAI's shape; the call is an error whatever the reader sees.
                _httpError = true;
            }
            else if (!response.IsSuccessStatusCode)
            {
                // Error bodies carry no billable usage; never wait on them.
                Finish(TokenUsageStatus.Error, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), eof: false);
                return;
            }

            _reader = _protocol.CreateResponseReader(Context, response);
            if (_reader is null)
            {
                Finish(TokenUsageStatus.Ok, null, eof: false);
                return;
            }

            _reader.Capture = _content;

            // Raw header read: the common, uncompressed answer allocates nothing here.
            if (response.Content.Headers.NonValidated.TryGetValues("Content-Encoding", out var encodings) && encodings.Count > 0)
            {
                var last = encodings.ToString().Split(',')[^1].Trim();
                _contentEncoding = last.Length == 0 || last.Equals("identity", StringComparison.OrdinalIgnoreCase) ? null : last;
            }

            if (Context.IsStreaming && _contentEncoding is null && _reader is IStreamOutputCapReader capReader
                && StreamOutputCap.Resolve(Context.Request, Context.Options) is { } limit)
            {
                EnableCap(capReader, limit);
            }

            response.Content = new MeteringHttpContent(response.Content, this);
            _responseTimestamp = _recorder.TimeProvider.GetTimestamp();
            _watched = true; // from now on the finalizer records the call as abandoned if the app drops the response
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(OnResponse), ex);
            _readerFailed = true;
            Finish(TokenUsageStatus.Ok, null, eof: false);
        }
    }

    public void OnSendFailed(Exception exception)
    {
        TokenMetricsSpans.LeaveCurrent(_span);
        var cancelled = exception is OperationCanceledException;
        Finish(cancelled ? TokenUsageStatus.Cancelled : TokenUsageStatus.Error, exception.GetType().FullName, eof: false);
    }

    public void OnBytes(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || Volatile.Read(ref _finished) != 0)
        {
            return;
        }

        if (_firstByteTimestamp == 0)
        {
            _firstByteTimestamp = _recorder.TimeProvider.GetTimestamp();
        }

        if (_readerFailed || _reader is null)
        {
            return;
        }

        lock (this)
        {
            if (_finished != 0)
            {
                return;
            }

            try
            {
                if (_contentEncoding is not null)
                {
                    Collect(data);
                }
                else
                {
                    Dimensions?.OnBytes(data);
                    _reader.Write(data);
                }
            }
            catch (Exception ex)
            {
                ReaderFailed(ex);
            }
        }
    }

    /// <summary>Transform mode: observes <paramref name="data"/> and writes what the app reads; fails open to the raw bytes.</summary>
    /// <returns><see langword="true"/> when the stream was ended at the output cap: the app's end of stream is written, the
    /// rest of the upstream response must not be read.</returns>
    public bool Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        if (!data.IsEmpty && _firstByteTimestamp == 0)
        {
            _firstByteTimestamp = _recorder.TimeProvider.GetTimestamp();
        }

        lock (this)
        {
            if (_readerFailed || _reader is null || _finished != 0)
            {
                output.Write(data);
                return false;
            }

            try
            {
                Dimensions?.OnBytes(data);
                _reader.Transform(data, output, final);
                return _cap is { Reached: true };
            }
            catch (Exception ex)
            {
                ReaderFailed(ex);
                output.Write(data);
                return false;
            }
        }
    }

    public void OnEnd() => Finish(TokenUsageStatus.Ok, null, eof: true);

    public void OnReadFailed(Exception exception)
    {
        var cancelled = exception is OperationCanceledException;
        Finish(cancelled ? TokenUsageStatus.Cancelled : TokenUsageStatus.Error, exception.GetType().FullName, eof: false);
    }

    public void OnDisposed() => Finish(TokenUsageStatus.Cancelled, null, eof: false);

    /// <summary>The app dropped the response (neither read to the end nor disposed); runs on the thread pool, once.</summary>
    private void OnAbandoned() => Finish(TokenUsageStatus.Abandoned, null, eof: false);

    private void Collect(ReadOnlySpan<byte> data)
    {
        if (_compressedOverflow)
        {
            return;
        }

        var needed = _compressedLength + data.Length;
        if (needed > Context.Options.MaxInspectedResponseBytes)
        {
            _compressedOverflow = true;
            return;
        }

        if (_compressed is null || _compressed.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(4096, (_compressed?.Length ?? 0) * 2)));
            if (_compressed is not null)
            {
                _compressed.AsSpan(0, _compressedLength).CopyTo(next);
                ArrayPool<byte>.Shared.Return(_compressed);
            }

            _compressed = next;
        }

        data.CopyTo(_compressed.AsSpan(_compressedLength));
        _compressedLength = needed;
    }

    private void DecompressIntoReader(TokenUsageResponseReader reader)
    {
        if (_compressed is null || _compressedLength == 0)
        {
            return;
        }

        using var source = new MemoryStream(_compressed, 0, _compressedLength, writable: false);
        using Stream decompressor = _contentEncoding?.ToUpperInvariant() switch
        {
            "GZIP" or "X-GZIP" => new GZipStream(source, CompressionMode.Decompress),
            "DEFLATE" => new ZLibStream(source, CompressionMode.Decompress),
            "BR" => new BrotliStream(source, CompressionMode.Decompress),
            _ => Stream.Null,
        };
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        long total = 0;
        try
        {
            int n;
            while ((n = decompressor.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += n;
                if (total > Context.Options.MaxInspectedResponseBytes * 4L)
                {
                    break; // decompression bomb guard
                }

                Dimensions?.OnBytes(buffer.AsSpan(0, n));
                reader.Write(buffer.AsSpan(0, n));
            }
        }
        catch (InvalidDataException)
        {
            // A cut stream (missing trailer) still yields what was decoded before it: usage already seen is kept.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReaderFailed(Exception ex)
    {
        _readerFailed = true;
        _recorder.ReportInternalError(_protocol.Name + ".reader", ex);
    }

    private void Finish(TokenUsageStatus status, string? errorType, bool eof)
    {
        lock (this)
        {
            FinishLocked(status, errorType, eof);
        }
    }

    private void FinishLocked(TokenUsageStatus status, string? errorType, bool eof)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        StopWatching();

        try
        {
            if (Dimensions is { Unmetered: true })
            {
                return;
            }

            var reader = _readerFailed ? null : _reader;
            if (reader is not null)
            {
                try
                {
                    if (_contentEncoding is not null)
                    {
                        DecompressIntoReader(reader);
                    }

                    reader.Complete();
                }
                catch (Exception ex)
                {
                    ReaderFailed(ex);
                }

                if (_httpError)
                {
                    status = TokenUsageStatus.Error;
                    errorType = StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (status == TokenUsageStatus.Ok && _reader is not null)
                {
                    if (reader.ErrorType is not null)
                    {
                        status = TokenUsageStatus.Error;
                        errorType = reader.ErrorType;
                    }
                    else if (!reader.Completed)
                    {
                        status = TokenUsageStatus.Truncated;
                    }
                }
                else if ((status is TokenUsageStatus.Cancelled or TokenUsageStatus.Abandoned) && reader.Completed)
                {
                    // The app stopped reading after the terminal event (an SSE client that stops at [DONE]): the call completed.
                    status = TokenUsageStatus.Ok;
                }

                if (_cap is { Reached: true } && !_httpError)
                {
                    status = TokenUsageStatus.Capped;
                    errorType = null;
                }
            }

            _ = eof;
            var content = _content is null ? null : BuildContent();
            var (usage, source, method, pending) = status == TokenUsageStatus.Capped ? CappedUsage(reader, _cap!) : ResolveUsage(reader, status);
            // An abandoned call is found by the garbage collector, long after the app let go: its duration ends at the last sign of it.
            var end = status == TokenUsageStatus.Abandoned ? Math.Max(_firstByteTimestamp, _responseTimestamp) : _recorder.TimeProvider.GetTimestamp();
            var endpoint = EndpointCache.Get(_uri);
            var record = new TokenUsageRecord
            {
                Timestamp = _startTime,
                Provider = Context.Provider,
                Operation = Context.Operation,
                RequestModel = Context.RequestModel,
                RoutedModel = Context.RoutedModel,
                ResponseModel = reader?.ResponseModel,
                ResponseId = reader?.ResponseId,
                IsStreaming = Context.IsStreaming,
                Status = status,
                ErrorType = status is TokenUsageStatus.Ok or TokenUsageStatus.Capped ? null : errorType ?? (status == TokenUsageStatus.Truncated ? "truncated" : status == TokenUsageStatus.Cancelled ? "cancelled" : status == TokenUsageStatus.Abandoned ? "abandoned" : null),
                HttpStatusCode = StatusCode,
                Duration = _recorder.TimeProvider.GetElapsedTime(_startTimestamp, end),
                TimeToFirstChunk = Context.IsStreaming && _firstByteTimestamp != 0 ? _recorder.TimeProvider.GetElapsedTime(_startTimestamp, _firstByteTimestamp) : null,
                Endpoint = endpoint?.Endpoint,
                ServerAddress = endpoint?.Host,
                ServerPort = endpoint?.Port,
                Usage = usage,
                Source = source,
                EstimationMethod = method,
                UserId = _attribution?.UserId,
                Consumer = _attribution?.Consumer,
                SessionId = _attribution?.SessionId,
                Feature = _attribution?.Feature,
                Tags = _attribution?.Tags,
                ClientName = _clientName,
                Layer = TokenUsageLayer.Http,
                OperationId = _scope?.OperationId,
                RoundIndex = _roundIndex < 0 ? null : _roundIndex,
                GenAIMetricsRecordedElsewhere = _scope?.GenAIMetricsRecordedElsewhere ?? false,
                Content = content,
                Span = _span,
                Budget = status == TokenUsageStatus.Rejected ? null : _budget,
            };
            record = Dimensions?.Apply(record) ?? record;
            _span = null; // handed over with the record: the recorder stops it on every path
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
            TokenMetricsSpans.Abort(_span);
        }
        finally
        {
            Dimensions?.Dispose();
            _reader?.ResetOutputText();
            Context.ReleaseRequestBody();
            (_reader as IDisposable)?.Dispose();
            if (_compressed is not null)
            {
                ArrayPool<byte>.Shared.Return(_compressed);
                _compressed = null;
            }
        }
    }

    /// <summary>The captured content, redacted and cut; the question is parsed from the request body here, before the body is released.</summary>
    private TokenUsageContent? BuildContent()
    {
        try
        {
            if (_content!.WantsQuestion && Context.RequestBody is { } body && Context.Operation != "embeddings")
            {
                _content.SetQuestion(RequestQuestion.Find(body.Span));
            }

            return _content.Build();
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(BuildContent), ex);
            return null;
        }
    }

    /// <summary>Turns the output cap on for this stream (the reader then transforms); the input is estimated only if the cut must
    /// tell the app its usage.</summary>
    private void EnableCap(IStreamOutputCapReader capReader, long limit)
    {
        var model = Context.RoutedModel ?? Context.RequestModel;
        var cap = new StreamOutputCap(limit, model)
        {
            InputEstimator = () => Context.RequestBody is { IsEmpty: false } body ? _recorder.Estimator.CountRequest(body.Span, model).Tokens : null,
        };
        if (capReader.EnableCap(cap))
        {
            _cap = cap;
        }
    }

    /// <summary>The usage of a stream ended at the cap: the output the app read, counted as it went (so estimated), with the
    /// input the vendor reported before the cut, the input the app was told, or the input estimated off the app's path.</summary>
    private (TokenUsage Usage, TokenUsageSource Source, string? Method, PendingEstimate? Pending) CappedUsage(TokenUsageResponseReader? reader, StreamOutputCap cap)
    {
        var output = cap.Tokens;
        var input = reader?.Usage?.InputTokenCount ?? cap.InputTokens;
        if (input is not null || !_recorder.ShouldEstimate(TokenUsageStatus.Capped))
        {
            var reported = reader?.Usage;
            var usage = new TokenUsage
            {
                InputTokenCount = input,
                CachedInputTokenCount = reported?.CachedInputTokenCount,
                CacheWriteInputTokenCount = reported?.CacheWriteInputTokenCount,
                InputTokenDetails = reported?.InputTokenDetails,
                OutputTokenCount = output,
                TotalTokenCount = (input ?? 0) + output,
            };
            return (usage, TokenUsageSource.Estimated, cap.Method, null);
        }

        var body = Context.DetachRequestBody(out var pooled);
        var estimate = new PendingHttpEstimate(pooled, body, text: null, Context.RoutedModel ?? Context.RequestModel) { CountedOutput = new TokenEstimate(output, cap.Method) };
        return (new TokenUsage { OutputTokenCount = output, TotalTokenCount = output }, TokenUsageSource.Estimated, cap.Method, estimate);
    }

    /// <summary>Reported usage, or what to estimate from: the estimate itself runs on the recorder's background side, never
    /// inside the app's read (counting a 4 MB prompt can take a second).</summary>
    private (TokenUsage Usage, TokenUsageSource Source, string? Method, PendingEstimate? Pending) ResolveUsage(TokenUsageResponseReader? reader, TokenUsageStatus status)
    {
        if (TokenUsageRecorder.TryUseReported(reader?.Usage, out var reported))
        {
            return (reported, TokenUsageSource.Reported, null, null);
        }

        // Non-token units a vendor bills (DeepL's characters) stay on the record even though no token count is known.
        var detailsOnly = reader?.Usage is { InputTokenDetails: not null } or { OutputTokenDetails: not null }
            ? new TokenUsage { InputTokenDetails = reader.Usage.InputTokenDetails, OutputTokenDetails = reader.Usage.OutputTokenDetails }
            : TokenUsage.Empty;
        if (!_recorder.ShouldEstimate(status))
        {
            return (detailsOnly, TokenUsageSource.Missing, null, null);
        }

        // Hand the captured request body and answer text (both bounded by the options) over to the estimate.
        var model = Context.RoutedModel ?? Context.RequestModel ?? reader?.ResponseModel;
        var body = Context.DetachRequestBody(out var pooled);
        var text = reader?.OutputText.Detach();
        if (body.IsEmpty && text is null)
        {
            return (detailsOnly, TokenUsageSource.Missing, null, null);
        }

        return (detailsOnly, TokenUsageSource.Missing, null, new PendingHttpEstimate(pooled, body, text, model));
    }

    /// <summary>The meter is reachable only from the handler's call (until the response is returned) and then only through the
    /// response content and its stream: when the app drops the response without reading it to the end or disposing it, the
    /// garbage collector finalizes the meter and the call is recorded as abandoned, once. Suppressed as soon as the call
    /// finishes any other way; a meter that never wrapped a response (an app-cancelled request read) records nothing here.</summary>
    /// <summary>The call finished: nothing left to watch (and nothing for the finalizer queue).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA1816:Dispose methods should call SuppressFinalize", Justification = "Not a disposable: the finalizer only watches for an abandoned response.")]
    private void StopWatching()
    {
        _watched = false;
        GC.SuppressFinalize(this);
    }

    ~HttpCallMeter()
    {
        if (_watched && Volatile.Read(ref _finished) == 0)
        {
            // Not on the finalizer thread: finishing takes the meter's lock and completes the reader.
            ThreadPool.UnsafeQueueUserWorkItem(static m => m.OnAbandoned(), this, preferLocal: false);
        }
    }
}

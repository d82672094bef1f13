using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>A <see cref="DelegatingHandler"/> that meters the LLM calls of any <see cref="HttpClient"/>: OpenAI SDK, Anthropic SDK, raw HTTP.</summary>
/// <remarks>
/// <para><see cref="SendAsync"/> returns as soon as the response headers arrive, as without it. The response body is wrapped so
/// that usage is read as the app reads it: the app gets the same bytes, in the same reads, with no added buffering. The record
/// is finished exactly once: at the end of the body, when the app disposes it (stopped reading: cancelled), on an error, or
/// when the app dropped the response without either (abandoned, found by the garbage collector). Estimates run afterwards,
/// on the recorder's background side, never inside the app's read.</para>
/// <para>Nothing TokenMetrics does can fail the call: its own errors are swallowed and counted; the app's exceptions come
/// through as the same instances. Requests that match no protocol pass straight through.</para>
/// <para>Create one per <see cref="HttpClient"/> pipeline (handlers are not shareable); the state they share lives in the
/// <see cref="TokenUsageRecorder"/>.</para>
/// </remarks>
public class TokenMetricsHandler : DelegatingHandler
{
    private readonly TokenUsageRecorder _recorder;
    private readonly ITokenUsageProtocol[] _protocols;
    private readonly TokenMetricsHandlerOptions _options;
    private readonly string? _clientName;
    private readonly HttpDimensionPlan? _dimensions;
    private readonly string[]? _pathSuffixes;
    private int _innerMeterState; // 0 unknown, 1 none below, 2 another TokenMetricsHandler below (it meters)

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsHandler"/> class.</summary>
    /// <param name="recorder">Where records go.</param>
    /// <param name="protocols">The vendor protocols to recognise, in priority order.</param>
    /// <param name="options">This client's settings; defaults apply when <see langword="null"/>.</param>
    /// <param name="clientName">The client's name, recorded with each call.</param>
    /// <exception cref="ArgumentNullException"><paramref name="recorder"/> or <paramref name="protocols"/> is <see langword="null"/>.</exception>
    public TokenMetricsHandler(TokenUsageRecorder recorder, IEnumerable<ITokenUsageProtocol> protocols, TokenMetricsHandlerOptions? options = null, string? clientName = null)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(protocols);
        _recorder = recorder;
        _protocols = protocols.ToArray();
        _options = options ?? new TokenMetricsHandlerOptions();
        TokenMetricsOptionsValidation.ThrowIfInvalid(_options);
        _clientName = clientName;
        _dimensions = HttpDimensionPlan.Create(_options);
        _pathSuffixes = HttpDimensionPlan.PathSuffixes(_options);
    }

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsHandler"/> class with an inner handler, for use without dependency injection.</summary>
    /// <param name="recorder">Where records go.</param>
    /// <param name="protocols">The vendor protocols to recognise.</param>
    /// <param name="innerHandler">The next handler, usually an <see cref="HttpClientHandler"/> or <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="options">This client's settings.</param>
    public TokenMetricsHandler(TokenUsageRecorder recorder, IEnumerable<ITokenUsageProtocol> protocols, HttpMessageHandler innerHandler, TokenMetricsHandlerOptions? options = null)
        : this(recorder, protocols, options)
    {
        InnerHandler = innerHandler;
    }

    /// <inheritdoc/>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Synchronous fast path, no state machine of our own: taken while every step has already completed (an in-memory or
        // cached transport, a request body already in memory); the first step that has not completed goes to the async path,
        // which continues from that very step. Exceptions thrown synchronously reach the caller as a faulted task, as they
        // would from an async method.
        var meter = TryBegin(request);
        Task<HttpResponseMessage> sent;
        if (meter is null)
        {
            try
            {
                sent = base.SendAsync(request, cancellationToken);
            }
            catch (Exception ex)
            {
                return Rethrow(ex);
            }

            return sent;
        }

        ValueTask requestRead;
        try
        {
            requestRead = meter.OnRequestAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return Rethrow(ex);
        }

        if (!requestRead.IsCompletedSuccessfully || _recorder.Settings.Budgets is not null)
        {
            return SendMeteredAsync(meter, requestRead, request, cancellationToken);
        }

        requestRead.GetAwaiter().GetResult(); // completed: consumes the value task as awaiting it would
        meter.StartSpan();
        try
        {
            sent = base.SendAsync(request, cancellationToken);
        }
        catch (Exception ex)
        {
            meter.OnSendFailed(ex);
            return Rethrow(ex);
        }

        if (!sent.IsCompletedSuccessfully)
        {
            return AwaitResponseAsync(meter, sent);
        }

        // The same task the inner handler returned: its response, whose content OnResponse wraps.
        meter.OnResponse(sent.Result);
        return sent;
    }

    /// <summary>The async path from the request read on: budgets, the span, the send.</summary>
    private async Task<HttpResponseMessage> SendMeteredAsync(HttpCallMeter meter, ValueTask requestRead, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await requestRead.ConfigureAwait(false);
        if (_recorder.Settings.Budgets is { } budgets && await meter.CheckBudgetsAsync(budgets, cancellationToken).ConfigureAwait(false) is { } rejected)
        {
            return rejected; // refused by a budget before leaving the process: a synthetic 429, already recorded as Rejected
        }

        meter.StartSpan();
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            meter.OnSendFailed(ex);
            throw;
        }

        meter.OnResponse(response);
        return response;
    }

    /// <summary>Waits for the inner handler's response; the app's exception comes through as the same instance.</summary>
    private static async Task<HttpResponseMessage> AwaitResponseAsync(HttpCallMeter meter, Task<HttpResponseMessage> sent)
    {
        HttpResponseMessage response;
        try
        {
            response = await sent.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            meter.OnSendFailed(ex);
            throw;
        }

        meter.OnResponse(response);
        return response;
    }

    /// <summary>A synchronous throw as the task an async method would have returned (faulted, or cancelled for a cancellation).</summary>
    private static async Task<HttpResponseMessage> Rethrow(Exception exception)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
        return null!;
    }

    /// <inheritdoc/>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The synchronous path meters the response; the request is not inspected (that would need async body reads), so budgets
        // are not checked here either: the async path is the one SDKs use.
        var meter = TryBegin(request);
        if (meter is null)
        {
            return base.Send(request, cancellationToken);
        }

        meter.StartSpan();
        HttpResponseMessage response;
        try
        {
            response = base.Send(request, cancellationToken);
        }
        catch (Exception ex)
        {
            meter.OnSendFailed(ex);
            throw;
        }

        meter.OnResponse(response);
        return response;
    }

    private ITokenUsageProtocol? SelectProtocol(HttpRequestMessage request)
    {
        // A client configured to rewrite uses the named rewriter for the requests it accepts; rewriters never meter otherwise.
        if (_options.RewriteTo is { } target)
        {
            foreach (var protocol in _protocols)
            {
                if (protocol is ITokenUsageRewriter && string.Equals(protocol.Name, target, StringComparison.OrdinalIgnoreCase) && protocol.CanHandle(request))
                {
                    return protocol;
                }
            }
        }

        foreach (var protocol in _protocols)
        {
            if (protocol is not ITokenUsageRewriter && protocol.CanHandle(request))
            {
                return protocol;
            }
        }

        return null;
    }

    private bool HasInnerMeter()
    {
        for (var handler = InnerHandler; handler is DelegatingHandler delegating; handler = delegating.InnerHandler)
        {
            if (handler is TokenMetricsHandler)
            {
                return true;
            }
        }

        return false;
    }

    private HttpCallMeter? TryBegin(HttpRequestMessage request)
    {
        if (!_options.Enabled || !_recorder.Settings.Enabled || TokenMetricsSuppression.IsSuppressed || request is null || request.RequestUri is null)
        {
            return null;
        }

        try
        {
            // With a second TokenMetricsHandler further down the same pipeline (added by hand), only the inner one meters.
            if (_innerMeterState == 0)
            {
                _innerMeterState = HasInnerMeter() ? 2 : 1;
            }

            if (_innerMeterState == 2)
            {
                return null;
            }

            // Path filter first: an unmetered call costs one suffix check and passes through untouched.
            var protocol = HttpDimensionPlan.IsPathMetered(_pathSuffixes, request.RequestUri) ? SelectProtocol(request) : null;
            if (protocol is null)
            {
                return null;
            }

            return new HttpCallMeter(_recorder, protocol, request, _options, _clientName, CallScope.Current) { Dimensions = _dimensions?.Begin(request) };
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(TryBegin), ex);
        }

        return null;
    }
}

using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Teaches <see cref="TokenMetricsHandler"/> one vendor API: how to recognise its requests and read usage from its answers.</summary>
/// <remarks>
/// <para>Implementations are singletons and must be thread-safe. <see cref="CanHandle"/> runs on every request, so it must be
/// cheap: look at host and path only, never at the body.</para>
/// <para>Exceptions thrown by a protocol are caught by the handler, counted, and turn metering off for that call; the app's
/// request and response are never affected.</para>
/// </remarks>
public interface ITokenUsageProtocol
{
    /// <summary>Gets the default provider name (an OpenTelemetry <c>gen_ai.provider.name</c> value).</summary>
    string Name { get; }

    /// <summary>Returns whether this protocol meters <paramref name="request"/>.</summary>
    /// <param name="request">The outgoing request; do not read its content here.</param>
    /// <returns><see langword="true"/> to meter the call with this protocol.</returns>
    bool CanHandle(HttpRequestMessage request);

    /// <summary>Inspects and optionally rewrites the outgoing request, and fills the operation, model and streaming flag.</summary>
    /// <param name="context">The call's context.</param>
    /// <param name="cancellationToken">The app's cancellation token.</param>
    /// <returns>A task that completes when the request is ready to send.</returns>
    ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken);

    /// <summary>Creates the reader that will see the response body as the app reads it.</summary>
    /// <param name="context">The call's context.</param>
    /// <param name="response">The response, headers received, body not read.</param>
    /// <returns>A reader, or <see langword="null"/> when this body carries no usage (the call is recorded without it).</returns>
    TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response);
}

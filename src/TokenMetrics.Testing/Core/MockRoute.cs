using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>Handles one matched request.</summary>
internal delegate Task MockEndpoint(MockRequestContext context);

/// <summary>One endpoint of a protocol.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="MatchesPath">Whether a request path belongs to this endpoint.</param>
/// <param name="Handler">Writes the answer.</param>
/// <param name="Generates">Whether this endpoint produces model output: only these take a queued scenario and honour errors, delays and cuts.</param>
/// <param name="SelectModel">Finds the model of a request; <see langword="null"/> reads the body's <c>model</c> string.</param>
internal sealed record MockRoute(
    string Method,
    Func<string, bool> MatchesPath,
    MockEndpoint Handler,
    bool Generates = true,
    Func<JsonElement?, HttpContext, string?>? SelectModel = null);

/// <summary>A vendor wire protocol served by the mock: its endpoints and its error format.</summary>
internal interface IMockProtocol
{
    /// <summary>Gets the endpoints.</summary>
    IReadOnlyList<MockRoute> Routes { get; }

    /// <summary>Whether an unmatched path is in this protocol's space, so its not-found format applies.</summary>
    bool OwnsPath(string path);

    /// <summary>The error body for a status, in this protocol's format.</summary>
    byte[] ErrorBody(int statusCode, string? message);
}

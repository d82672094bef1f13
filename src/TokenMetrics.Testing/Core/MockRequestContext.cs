using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>Everything an endpoint needs to answer one request.</summary>
internal sealed class MockRequestContext
{
    public MockRequestContext(HttpContext http, MockLlmRequest request, JsonElement? json, string? model, ResolvedScenario scenario, IMockProtocol protocol, CancellationToken cancellationToken)
    {
        Http = http;
        Request = request;
        Json = json;
        Model = model;
        Scenario = scenario;
        Protocol = protocol;
        CancellationToken = cancellationToken;
    }

    public HttpContext Http { get; }

    public MockLlmRequest Request { get; }

    /// <summary>Gets the parsed JSON body, if the request had one.</summary>
    public JsonElement? Json { get; }

    public string? Model { get; }

    public ResolvedScenario Scenario { get; }

    public IMockProtocol Protocol { get; }

    /// <summary>Gets a token cancelled when the client goes away or the server stops.</summary>
    public CancellationToken CancellationToken { get; }

    public MockResponseWriter CreateWriter() => new(this);
}

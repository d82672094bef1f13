namespace TokenMetrics.Testing.Internal;

/// <summary>The Anthropic Messages API (<c>/v1/messages</c>) and Claude on Vertex AI (<c>:rawPredict</c>, <c>:streamRawPredict</c>).</summary>
internal sealed class AnthropicProtocol : IMockProtocol
{
    public IReadOnlyList<MockRoute> Routes { get; } =
    [
        new MockRoute("POST", static p => p == "/v1/messages", AnthropicMessages.HandleAsync),
        new MockRoute("POST", AnthropicMessages.IsVertexPath, AnthropicMessages.HandleVertexAsync, SelectModel: AnthropicMessages.VertexModel),
    ];

    public bool OwnsPath(string path) => path.StartsWith("/v1/messages", StringComparison.Ordinal);

    /// <summary>Anthropic's error shape: <c>{"type":"error","error":{"type":...,"message":...},"request_id":...}</c>.</summary>
    public byte[] ErrorBody(int statusCode, string? message) =>
        JsonBytes.Write((statusCode, message), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("type", "error");
            w.WriteStartObject("error");
            w.WriteString("type", ErrorType(s.statusCode));
            w.WriteText("message", s.message ?? DefaultMessage(s.statusCode));
            w.WriteEndObject();
            w.WriteString("request_id", "req_mock");
            w.WriteEndObject();
        });

    public static string ErrorType(int statusCode) => statusCode switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };

    private static string DefaultMessage(int statusCode) => statusCode switch
    {
        401 => "invalid x-api-key",
        429 => "Number of request tokens has exceeded your per-minute rate limit",
        529 => "Overloaded",
        _ => "The mock server was asked to fail this request.",
    };
}

namespace TokenMetrics.Testing.Internal;

/// <summary>The Amazon Bedrock runtime (<c>/model/{modelId}/...</c>).</summary>
internal sealed class BedrockProtocol : IMockProtocol
{
    public IReadOnlyList<MockRoute> Routes { get; } =
    [
        new MockRoute("POST", static p => IsModelPath(p, "/converse"), BedrockRuntime.ConverseAsync, SelectModel: BedrockRuntime.Model),
        new MockRoute("POST", static p => IsModelPath(p, "/converse-stream"), BedrockRuntime.ConverseStreamAsync, SelectModel: BedrockRuntime.Model),
        new MockRoute("POST", static p => IsModelPath(p, "/invoke"), BedrockRuntime.InvokeAsync, SelectModel: BedrockRuntime.Model),
        new MockRoute("POST", static p => IsModelPath(p, "/invoke-with-response-stream"), BedrockRuntime.InvokeStreamAsync, SelectModel: BedrockRuntime.Model),
    ];

    public bool OwnsPath(string path) => path.StartsWith("/model/", StringComparison.Ordinal);

    /// <summary>AWS JSON errors: <c>{"message":...}</c> (the type travels in <c>x-amzn-ErrorType</c> on the real service).</summary>
    public byte[] ErrorBody(int statusCode, string? message) =>
        JsonBytes.Write((statusCode, message), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteText("message", s.message ?? DefaultMessage(s.statusCode));
            w.WriteEndObject();
        });

    private static bool IsModelPath(string path, string action) =>
        path.StartsWith("/model/", StringComparison.Ordinal) && path.EndsWith(action, StringComparison.Ordinal) && path.Length > 7 + action.Length;

    private static string DefaultMessage(int statusCode) => statusCode switch
    {
        400 => "Malformed input request, please reformat your input and try again.",
        403 => "The security token included in the request is invalid.",
        404 => "The provided model identifier is invalid.",
        429 => "Too many requests, please wait before trying again.",
        503 => "Bedrock is unable to process your request.",
        _ => "The mock server was asked to fail this request.",
    };
}

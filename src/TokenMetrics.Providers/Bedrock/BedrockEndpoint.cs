namespace TokenMetrics.Providers.Bedrock;

internal enum BedrockOperation
{
    None,
    Converse,
    ConverseStream,
    Invoke,
    InvokeStream,
}

internal static class BedrockEndpoint
{
    /// <summary>Classifies <c>/model/{modelId}/{action}</c>.</summary>
    public static BedrockOperation Classify(string path)
    {
        if (!path.StartsWith("/model/", StringComparison.Ordinal))
        {
            return BedrockOperation.None;
        }

        var p = path.AsSpan().TrimEnd('/');
        return p.EndsWith("/converse-stream", StringComparison.Ordinal) ? BedrockOperation.ConverseStream
            : p.EndsWith("/converse", StringComparison.Ordinal) ? BedrockOperation.Converse
            : p.EndsWith("/invoke-with-response-stream", StringComparison.Ordinal) ? BedrockOperation.InvokeStream
            : p.EndsWith("/invoke", StringComparison.Ordinal) ? BedrockOperation.Invoke
            : BedrockOperation.None;
    }

    /// <summary>The URL-decoded model id (or inference-profile id/ARN) of <c>/model/{modelId}/{action}</c>.</summary>
    public static string? ModelId(string path)
    {
        const int Start = 7; // "/model/"
        var end = path.LastIndexOf('/');
        return end > Start ? Uri.UnescapeDataString(path[Start..end]) : null;
    }

    /// <summary><c>bedrock-runtime.{region}.amazonaws.com</c>, <c>bedrock-runtime-fips.{region}.amazonaws.com</c>, and the <c>.com.cn</c> partition.</summary>
    public static bool IsRuntimeHost(string host) =>
        (host.StartsWith("bedrock-runtime.", StringComparison.OrdinalIgnoreCase) || host.StartsWith("bedrock-runtime-fips.", StringComparison.OrdinalIgnoreCase))
        && (host.EndsWith(".amazonaws.com", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".amazonaws.com.cn", StringComparison.OrdinalIgnoreCase));
}

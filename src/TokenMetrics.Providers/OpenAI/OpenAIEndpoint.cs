namespace TokenMetrics.Providers.OpenAI;

internal enum OpenAIOperation
{
    None,
    ChatCompletions,
    Responses,
    Completions,
    Embeddings,
}

internal static class OpenAIEndpoint
{
    // One boxed value per operation: the protocol state is an object, and boxing on every call would allocate.
    private static readonly object[] BoxedOperations = [OpenAIOperation.None, OpenAIOperation.ChatCompletions, OpenAIOperation.Responses, OpenAIOperation.Completions, OpenAIOperation.Embeddings];

    public static object Boxed(OpenAIOperation operation) => (uint)operation < (uint)BoxedOperations.Length ? BoxedOperations[(int)operation] : operation;

    public static OpenAIOperation Classify(string path)
    {
        var p = path.AsSpan().TrimEnd('/');
        if (p.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            return OpenAIOperation.ChatCompletions;
        }

        if (p.EndsWith("/responses", StringComparison.OrdinalIgnoreCase))
        {
            return OpenAIOperation.Responses;
        }

        if (p.EndsWith("/completions", StringComparison.OrdinalIgnoreCase))
        {
            return OpenAIOperation.Completions;
        }

        return p.EndsWith("/embeddings", StringComparison.OrdinalIgnoreCase) ? OpenAIOperation.Embeddings : OpenAIOperation.None;
    }

    /// <summary>Azure OpenAI puts the deployment, not the model, in the path: <c>/openai/deployments/{name}/...</c>.</summary>
    public static string? AzureDeployment(string path)
    {
        const string Marker = "/deployments/";
        var i = path.IndexOf(Marker, StringComparison.OrdinalIgnoreCase);
        if (i < 0)
        {
            return null;
        }

        var start = i + Marker.Length;
        var end = path.IndexOf('/', start);
        return end > start ? Uri.UnescapeDataString(path[start..end]) : null;
    }
}

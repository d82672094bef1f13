namespace TokenMetrics.Providers.Gemini;

/// <summary>Parses Gemini model-action paths: <c>/v1beta/models/{model}:{action}</c> (Gemini API),
/// <c>/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{action}</c> (Vertex AI) and
/// <c>/v1/publishers/google/models/{model}:{action}</c> (Vertex AI Express).</summary>
internal static class GeminiEndpoint
{
    /// <summary>Returns whether <paramref name="path"/> is a generateContent or streamGenerateContent call on a Google model.</summary>
    public static bool TryParse(string path, out string model, out bool streaming, out bool vertex)
    {
        model = string.Empty;
        streaming = false;
        vertex = false;
        var p = path.AsSpan();
        var colon = p.LastIndexOf(':');
        if (colon < 0)
        {
            return false;
        }

        var action = p[(colon + 1)..];
        if (action.Equals("streamGenerateContent", StringComparison.Ordinal))
        {
            streaming = true;
        }
        else if (!action.Equals("generateContent", StringComparison.Ordinal))
        {
            return false;
        }

        var head = p[..colon];
        var slash = head.LastIndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        var parent = head[..slash];
        if (!parent.EndsWith("/models", StringComparison.Ordinal) && !parent.EndsWith("/tunedModels", StringComparison.Ordinal))
        {
            return false;
        }

        var publishers = parent.IndexOf("/publishers/", StringComparison.Ordinal);
        if (publishers >= 0)
        {
            // Vertex AI: only Google's own models; publishers/anthropic (rawPredict) is the Anthropic protocol's.
            if (!parent[(publishers + "/publishers/".Length)..].StartsWith("google/", StringComparison.Ordinal))
            {
                return false;
            }

            vertex = true;
        }

        var name = head[(slash + 1)..];
        if (name.IsEmpty)
        {
            return false;
        }

        model = name.Contains('%') ? Uri.UnescapeDataString(name.ToString()) : name.ToString();
        return true;
    }

    /// <summary>Whether a host is a Vertex AI host (<c>aiplatform.googleapis.com</c> or <c>{region}-aiplatform.googleapis.com</c>).</summary>
    public static bool IsVertexHost(string host) =>
        host.Equals("aiplatform.googleapis.com", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith("-aiplatform.googleapis.com", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a host is the Gemini API host.</summary>
    public static bool IsGeminiHost(string host) => host.Equals("generativelanguage.googleapis.com", StringComparison.OrdinalIgnoreCase);
}

using System.Text.Json;

namespace TokenMetrics.Providers.Json;

/// <summary>How response bodies are scanned.</summary>
internal static class JsonScan
{
    /// <summary>Reader options for vendor bodies: no depth limit. A complete body nested deeper than System.Text.Json's default
    /// of 64 (an app's tool arguments or structured output) is still valid JSON, and the <c>usage</c> after it must be found;
    /// the reader tracks depth in a bit stack, so depth costs a bit per level, not a stack frame.</summary>
    public static readonly JsonReaderOptions Options = new() { MaxDepth = int.MaxValue };
}

namespace TokenMetrics.Providers.Rewriting;

/// <summary>What a rewriter's request side tells its response side.</summary>
/// <param name="Stream">Whether the app asked for a stream.</param>
/// <param name="IncludeUsage">Whether the app asked for the stream's usage chunk.</param>
/// <param name="RoutedModel">The model the vendor was asked for.</param>
/// <param name="Created">The <c>created</c> time written in the answer (Unix seconds).</param>
internal sealed record RewriteState(bool Stream, bool IncludeUsage, string RoutedModel, long Created)
{
    /// <summary>Creates the builder of the app's answer.</summary>
    public OpenAIAnswerBuilder CreateBuilder() => new(Stream, IncludeUsage, RoutedModel, Created);
}

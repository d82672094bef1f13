namespace TokenMetrics.Providers.Rewriting;

/// <summary>What a rewriter carries from the request to its answer transform.</summary>
/// <param name="IncludeUsage">Whether the app asked for <c>stream_options.include_usage</c>.</param>
/// <param name="Model">The model to report until the vendor names one (the routed model).</param>
/// <param name="Created">The <c>created</c> Unix time of the answer.</param>
internal sealed record AnswerState(bool IncludeUsage, string Model, long Created);

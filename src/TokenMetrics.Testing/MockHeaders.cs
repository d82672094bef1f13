namespace TokenMetrics.Testing;

/// <summary>The request headers that select a <see cref="MockScenario"/> value for one request. They have the highest precedence.</summary>
/// <remarks>Numbers are invariant integers, booleans are <c>true</c>/<c>false</c>/<c>1</c>/<c>0</c>, durations are milliseconds.
/// A malformed value is answered with HTTP 400, so a typo in a test does not go unnoticed.</remarks>
public static class MockHeaders
{
    /// <summary><see cref="MockScenario.PromptTokens"/>.</summary>
    public const string PromptTokens = "x-mock-prompt-tokens";

    /// <summary><see cref="MockScenario.CompletionTokens"/>.</summary>
    public const string CompletionTokens = "x-mock-completion-tokens";

    /// <summary><see cref="MockScenario.CachedTokens"/>.</summary>
    public const string CachedTokens = "x-mock-cached-tokens";

    /// <summary><see cref="MockScenario.ReasoningTokens"/>.</summary>
    public const string ReasoningTokens = "x-mock-reasoning-tokens";

    /// <summary><see cref="MockScenario.AnswerText"/> (URL-encoded UTF-8, so any text fits in a header).</summary>
    public const string Answer = "x-mock-answer";

    /// <summary><see cref="MockScenario.ChunkCount"/>.</summary>
    public const string Chunks = "x-mock-chunks";

    /// <summary><see cref="MockScenario.ChunkDelay"/>, in milliseconds.</summary>
    public const string ChunkDelayMs = "x-mock-chunk-delay-ms";

    /// <summary><see cref="MockScenario.ResponseDelay"/>, in milliseconds.</summary>
    public const string ResponseDelayMs = "x-mock-response-delay-ms";

    /// <summary><see cref="MockScenario.ErrorStatusCode"/>.</summary>
    public const string Status = "x-mock-status";

    /// <summary><see cref="MockScenario.ErrorBody"/> (URL-encoded UTF-8).</summary>
    public const string ErrorBody = "x-mock-error-body";

    /// <summary><see cref="MockScenario.ErrorContentType"/>.</summary>
    public const string ErrorContentType = "x-mock-error-content-type";

    /// <summary><see cref="MockScenario.RetryAfterSeconds"/>.</summary>
    public const string RetryAfter = "x-mock-retry-after";

    /// <summary><see cref="MockScenario.StreamErrorAfterChunks"/>.</summary>
    public const string StreamErrorAfter = "x-mock-stream-error-after";

    /// <summary><see cref="MockScenario.CutAfterChunks"/>.</summary>
    public const string CutAfter = "x-mock-cut-after";

    /// <summary><see cref="MockScenario.CutSendsDone"/>.</summary>
    public const string CutDone = "x-mock-cut-done";

    /// <summary><see cref="MockScenario.CutAbortsConnection"/>.</summary>
    public const string CutAbort = "x-mock-cut-abort";

    /// <summary><see cref="MockScenario.Gzip"/>.</summary>
    public const string Gzip = "x-mock-gzip";

    /// <summary><see cref="MockScenario.AzureContentFilter"/>.</summary>
    public const string AzureContentFilter = "x-mock-azure-filter";

    /// <summary><see cref="MockScenario.Endless"/>.</summary>
    public const string Endless = "x-mock-endless";

    /// <summary><see cref="MockScenario.MaxStreamDuration"/>, in milliseconds.</summary>
    public const string MaxDurationMs = "x-mock-max-duration-ms";

    /// <summary><see cref="MockScenario.HugeBodyBytes"/>.</summary>
    public const string HugeBytes = "x-mock-huge-bytes";

    /// <summary><see cref="MockScenario.ToolCalls"/>.</summary>
    public const string ToolCalls = "x-mock-tool-calls";

    /// <summary><see cref="MockScenario.SplitWritesBytes"/>.</summary>
    public const string SplitBytes = "x-mock-split-bytes";

    /// <summary><see cref="MockScenario.ResponseId"/>.</summary>
    public const string Id = "x-mock-id";

    /// <summary><see cref="MockScenario.Created"/>.</summary>
    public const string Created = "x-mock-created";

    /// <summary><see cref="MockScenario.ResponseModel"/>.</summary>
    public const string ResponseModel = "x-mock-response-model";
}

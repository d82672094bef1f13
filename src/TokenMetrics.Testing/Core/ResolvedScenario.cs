namespace TokenMetrics.Testing.Internal;

/// <summary>A <see cref="MockScenario"/> after all layers are merged and the built-in defaults applied.</summary>
internal sealed class ResolvedScenario
{
    public const string DefaultAnswer = "This is a deterministic answer from the TokenMetrics mock server.";

    public ResolvedScenario(MockScenario scenario)
    {
        Source = scenario;
        PromptTokens = scenario.PromptTokens;
        CachedTokens = scenario.CachedTokens ?? 0;
        ReasoningTokens = scenario.ReasoningTokens ?? 0;
        CompletionTokens = scenario.CompletionTokens;
        var answer = scenario.AnswerText ?? DefaultAnswer;
        if (scenario.HugeBodyBytes is int huge && huge > 0)
        {
            answer = TextChunks.PadTo(answer, huge);
        }

        AnswerText = answer;
        var chunkCount = scenario.ChunkCount ?? (scenario.HugeBodyBytes is > 0 ? 4 : (int?)null);
        var chunks = chunkCount is int count ? TextChunks.SplitEven(answer, count) : TextChunks.SplitWords(answer);
        Chunks = chunks.Count > 0 ? chunks : [string.Empty];
        Endless = scenario.Endless ?? false;
        ChunkDelay = scenario.ChunkDelay ?? (Endless ? TimeSpan.FromMilliseconds(10) : TimeSpan.Zero);
        ResponseDelay = scenario.ResponseDelay ?? TimeSpan.Zero;
        MaxStreamDuration = scenario.MaxStreamDuration ?? TimeSpan.FromSeconds(30);
        ErrorStatusCode = scenario.ErrorStatusCode;
        ErrorBody = scenario.ErrorBody;
        ErrorContentType = scenario.ErrorContentType ?? "application/json";
        RetryAfterSeconds = scenario.RetryAfterSeconds;
        StreamErrorAfterChunks = scenario.StreamErrorAfterChunks;
        CutAfterChunks = scenario.CutAfterChunks;
        CutSendsDone = scenario.CutSendsDone ?? false;
        CutAbortsConnection = scenario.CutAbortsConnection ?? false;
        Gzip = scenario.Gzip ?? false;
        AzureContentFilter = scenario.AzureContentFilter ?? false;
        HugeBodyBytes = scenario.HugeBodyBytes;
        ToolCalls = scenario.ToolCalls ?? false;
        SplitWritesBytes = scenario.SplitWritesBytes is > 0 ? scenario.SplitWritesBytes : null;
        ResponseId = scenario.ResponseId;
        Created = scenario.Created;
        ResponseModel = scenario.ResponseModel;
    }

    public MockScenario Source { get; }

    public int? PromptTokens { get; }

    public int? CompletionTokens { get; }

    public int CachedTokens { get; }

    public int ReasoningTokens { get; }

    public string AnswerText { get; }

    public IReadOnlyList<string> Chunks { get; }

    public TimeSpan ChunkDelay { get; }

    public TimeSpan ResponseDelay { get; }

    public int? ErrorStatusCode { get; }

    public string? ErrorBody { get; }

    public string ErrorContentType { get; }

    public int? RetryAfterSeconds { get; }

    public int? StreamErrorAfterChunks { get; }

    public int? CutAfterChunks { get; }

    public bool CutSendsDone { get; }

    public bool CutAbortsConnection { get; }

    public bool Gzip { get; }

    public bool AzureContentFilter { get; }

    public bool Endless { get; }

    public TimeSpan MaxStreamDuration { get; }

    public int? HugeBodyBytes { get; }

    public bool ToolCalls { get; }

    public int? SplitWritesBytes { get; }

    public string? ResponseId { get; }

    public long? Created { get; }

    public string? ResponseModel { get; }

    /// <summary>The completion tokens to report when <paramref name="chunksSent"/> answer chunks were produced.</summary>
    public int CompletionTokensFor(int chunksSent) => CompletionTokens ?? chunksSent + ReasoningTokens;
}

namespace TokenMetrics.Testing;

/// <summary>Describes how the mock server answers one request.</summary>
/// <remarks>
/// <para>Every property is optional: <see langword="null"/> means "not set here", and the value comes from the next layer. The layers,
/// highest precedence first, are: the request's <c>x-mock-*</c> headers, the model-name conventions (<c>mock-error-500</c>, ...),
/// the next scenario from <see cref="MockLlmServer.Enqueue(MockScenario)"/>, <see cref="MockLlmServerOptions.DefaultScenario"/>,
/// and finally the built-in defaults documented on each property.</para>
/// <para>The "chunks" below are the answer's content pieces: one streamed content delta each, and together the whole answer text in a
/// non-streamed body.</para>
/// </remarks>
public sealed class MockScenario
{
    /// <summary>Gets or sets the reported prompt (input) tokens.</summary>
    /// <value>Default: derived from the request, <c>ceil(UTF-8 bytes of each message's text / 4) + 3</c> per message, plus 3.</value>
    public int? PromptTokens { get; set; }

    /// <summary>Gets or sets the reported completion (output) tokens, reasoning included as in the real API.</summary>
    /// <value>Default: the number of answer chunks sent, plus <see cref="ReasoningTokens"/>.</value>
    public int? CompletionTokens { get; set; }

    /// <summary>Gets or sets the reported cached prompt tokens (<c>prompt_tokens_details.cached_tokens</c>).</summary>
    /// <value>Default: 0.</value>
    public int? CachedTokens { get; set; }

    /// <summary>Gets or sets the reported reasoning tokens (<c>completion_tokens_details.reasoning_tokens</c>).</summary>
    /// <value>Default: 0.</value>
    public int? ReasoningTokens { get; set; }

    /// <summary>Gets or sets the answer text.</summary>
    /// <value>Default: <c>"This is a deterministic answer from the TokenMetrics mock server."</c></value>
    public string? AnswerText { get; set; }

    /// <summary>Gets or sets the number of chunks the answer is split into (by characters, never inside a surrogate pair).</summary>
    /// <value>Default: one chunk per word, each word but the first with its leading space, like real token deltas.</value>
    public int? ChunkCount { get; set; }

    /// <summary>Gets or sets the delay before each streamed chunk.</summary>
    /// <value>Default: none (10 ms for an endless stream).</value>
    public TimeSpan? ChunkDelay { get; set; }

    /// <summary>Gets or sets the delay before the response headers are sent.</summary>
    /// <value>Default: none.</value>
    public TimeSpan? ResponseDelay { get; set; }

    /// <summary>Gets or sets an HTTP status to answer with instead of a completion. Any value, even 200 (an error body with a success status).</summary>
    /// <value>Default: none, a normal answer.</value>
    public int? ErrorStatusCode { get; set; }

    /// <summary>Gets or sets the error body sent with <see cref="ErrorStatusCode"/>.</summary>
    /// <value>Default: an OpenAI-style <c>{"error":{...}}</c> JSON for the status, or an nginx-style HTML page when <see cref="ErrorContentType"/> is <c>text/html</c>.</value>
    public string? ErrorBody { get; set; }

    /// <summary>Gets or sets the content type of the error body.</summary>
    /// <value>Default: <c>application/json</c>.</value>
    public string? ErrorContentType { get; set; }

    /// <summary>Gets or sets a <c>Retry-After</c> value, in seconds, sent with an error.</summary>
    /// <value>Default: no header.</value>
    public int? RetryAfterSeconds { get; set; }

    /// <summary>Gets or sets the number of chunks after which a stream reports an in-stream error event and ends (no <c>[DONE]</c>).</summary>
    /// <value>Default: no in-stream error.</value>
    public int? StreamErrorAfterChunks { get; set; }

    /// <summary>Gets or sets the number of chunks after which the response is cut (before the finish chunk and the usage).
    /// A non-streamed body is cut in the middle of its JSON.</summary>
    /// <value>Default: no cut.</value>
    public int? CutAfterChunks { get; set; }

    /// <summary>Gets or sets a value indicating whether a cut stream still ends with its terminator: <c>data: [DONE]</c>
    /// (chat and completions) or a <c>response.incomplete</c> event (responses). The stream then looks complete but has no finish and no usage.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool? CutSendsDone { get; set; }

    /// <summary>Gets or sets a value indicating whether a cut aborts the connection (<see cref="Microsoft.AspNetCore.Http.HttpContext.Abort"/>)
    /// instead of ending the body cleanly.</summary>
    /// <value>Default: <see langword="false"/>: a clean end of the chunked body.</value>
    public bool? CutAbortsConnection { get; set; }

    /// <summary>Gets or sets a value indicating whether the body is sent gzip-compressed with <c>Content-Encoding: gzip</c>,
    /// whatever the request's <c>Accept-Encoding</c>. Streams are flushed per event, so they stay incremental.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool? Gzip { get; set; }

    /// <summary>Gets or sets a value indicating whether Azure OpenAI content-filter data is added: a leading chunk with empty
    /// <c>choices</c> and <c>prompt_filter_results</c>, and a trailing <c>content_filter_results</c> chunk without a delta.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool? AzureContentFilter { get; set; }

    /// <summary>Gets or sets a value indicating whether the stream repeats the answer chunks until the client goes away or
    /// <see cref="MaxStreamDuration"/> passes, and then finishes normally.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool? Endless { get; set; }

    /// <summary>Gets or sets the bound of an endless stream.</summary>
    /// <value>Default: 30 seconds.</value>
    public TimeSpan? MaxStreamDuration { get; set; }

    /// <summary>Gets or sets a size, in bytes, that the answer text is padded to (by repeating it), so bodies and events get huge.
    /// An embeddings response gets enough dimensions instead. Unless <see cref="ChunkCount"/> is set, the answer is sent in 4 chunks.</summary>
    /// <value>Default: no padding.</value>
    public int? HugeBodyBytes { get; set; }

    /// <summary>Gets or sets a value indicating whether the chat answer calls every function tool of the request (if it has any)
    /// instead of answering with text. Arguments are built from each tool's JSON schema and streamed in fragments.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool? ToolCalls { get; set; }

    /// <summary>Gets or sets a size, in bytes, in which every streamed write is split (each piece flushed on its own), so events
    /// and multi-byte UTF-8 characters straddle reads.</summary>
    /// <value>Default: one write per event.</value>
    public int? SplitWritesBytes { get; set; }

    /// <summary>Gets or sets the response <c>id</c>.</summary>
    /// <value>Default: a function of the request's model and prompt (not of <c>stream</c> or <c>stream_options</c>), so the same
    /// prompt gets the same id with and without streaming or <c>include_usage</c>.</value>
    public string? ResponseId { get; set; }

    /// <summary>Gets or sets the response <c>created</c> Unix timestamp.</summary>
    /// <value>Default: a function of the request's model and prompt, like <see cref="ResponseId"/>.</value>
    public long? Created { get; set; }

    /// <summary>Gets or sets the <c>model</c> reported in the response.</summary>
    /// <value>Default: the request's model.</value>
    public string? ResponseModel { get; set; }

    /// <summary>Creates a scenario that answers with an HTTP error.</summary>
    /// <param name="statusCode">The status code.</param>
    /// <param name="body">The body; <see langword="null"/> for the default body of the status.</param>
    /// <param name="contentType">The content type; <see langword="null"/> for <c>application/json</c>.</param>
    /// <returns>The scenario.</returns>
    public static MockScenario HttpError(int statusCode, string? body = null, string? contentType = null) =>
        new() { ErrorStatusCode = statusCode, ErrorBody = body, ErrorContentType = contentType };

    /// <summary>Creates a scenario that answers with a proxy's HTML <c>502 Bad Gateway</c> page.</summary>
    /// <returns>The scenario.</returns>
    public static MockScenario BadGatewayHtml() => new() { ErrorStatusCode = 502, ErrorContentType = "text/html" };

    /// <summary>Creates a scenario that cuts the response after some chunks.</summary>
    /// <param name="afterChunks">The number of chunks sent before the cut.</param>
    /// <param name="sendDone">Whether the stream still ends with its terminator.</param>
    /// <param name="abortConnection">Whether the connection is aborted instead of ended cleanly.</param>
    /// <returns>The scenario.</returns>
    public static MockScenario Cut(int afterChunks, bool sendDone = false, bool abortConnection = false) =>
        new() { CutAfterChunks = afterChunks, CutSendsDone = sendDone, CutAbortsConnection = abortConnection };

    /// <summary>Returns a new scenario with the values set here, and the values of <paramref name="fallback"/> where none is set here.</summary>
    /// <param name="fallback">The lower-precedence scenario.</param>
    /// <returns>The merged scenario.</returns>
    public MockScenario Or(MockScenario? fallback)
    {
        if (fallback is null)
        {
            return (MockScenario)MemberwiseClone();
        }

        return new MockScenario
        {
            PromptTokens = PromptTokens ?? fallback.PromptTokens,
            CompletionTokens = CompletionTokens ?? fallback.CompletionTokens,
            CachedTokens = CachedTokens ?? fallback.CachedTokens,
            ReasoningTokens = ReasoningTokens ?? fallback.ReasoningTokens,
            AnswerText = AnswerText ?? fallback.AnswerText,
            ChunkCount = ChunkCount ?? fallback.ChunkCount,
            ChunkDelay = ChunkDelay ?? fallback.ChunkDelay,
            ResponseDelay = ResponseDelay ?? fallback.ResponseDelay,
            ErrorStatusCode = ErrorStatusCode ?? fallback.ErrorStatusCode,
            ErrorBody = ErrorBody ?? fallback.ErrorBody,
            ErrorContentType = ErrorContentType ?? fallback.ErrorContentType,
            RetryAfterSeconds = RetryAfterSeconds ?? fallback.RetryAfterSeconds,
            StreamErrorAfterChunks = StreamErrorAfterChunks ?? fallback.StreamErrorAfterChunks,
            CutAfterChunks = CutAfterChunks ?? fallback.CutAfterChunks,
            CutSendsDone = CutSendsDone ?? fallback.CutSendsDone,
            CutAbortsConnection = CutAbortsConnection ?? fallback.CutAbortsConnection,
            Gzip = Gzip ?? fallback.Gzip,
            AzureContentFilter = AzureContentFilter ?? fallback.AzureContentFilter,
            Endless = Endless ?? fallback.Endless,
            MaxStreamDuration = MaxStreamDuration ?? fallback.MaxStreamDuration,
            HugeBodyBytes = HugeBodyBytes ?? fallback.HugeBodyBytes,
            ToolCalls = ToolCalls ?? fallback.ToolCalls,
            SplitWritesBytes = SplitWritesBytes ?? fallback.SplitWritesBytes,
            ResponseId = ResponseId ?? fallback.ResponseId,
            Created = Created ?? fallback.Created,
            ResponseModel = ResponseModel ?? fallback.ResponseModel,
        };
    }
}

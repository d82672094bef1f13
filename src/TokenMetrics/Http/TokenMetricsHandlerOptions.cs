using System.Collections.Generic;
using System.ComponentModel.DataAnnotations;
using System.Net.Http;

namespace TokenMetrics;

/// <summary>Settings of one metered <c>HttpClient</c> (named options: one instance per client name).</summary>
public sealed class TokenMetricsHandlerOptions
{
    /// <summary>Gets or sets a value indicating whether this client is metered.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the largest request body read to learn the model and streaming flag (and to estimate the prompt).</summary>
    /// <value>Between 0 and 256 MiB. The default is 4 MiB. Larger bodies are sent untouched and unread.</value>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxInspectedRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets or sets the largest non-streamed (or compressed) response body inspected for usage.</summary>
    /// <value>Between 0 and 256 MiB. The default is 8 MiB. Beyond it bytes still pass through; usage is estimated or missing.</value>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxInspectedResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets the largest single server-sent event inspected.</summary>
    /// <value>Between 1 KiB and 64 MiB. The default is 1 MiB (larger events pass through unparsed).</value>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxSseEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets a value indicating whether streamed requests that do not ask for usage are changed to ask for it
    /// (OpenAI <c>stream_options.include_usage</c>); the extra usage chunk is withheld from the app, which reads exactly the
    /// stream it would have read otherwise.</summary>
    /// <value>The default is <see langword="true"/>. Without it, such streams are estimated.</value>
    public bool RequestStreamUsage { get; set; } = true;

    /// <summary>Gets or sets the most output tokens a streamed answer may have (seed 003): past it TokenMetrics ends the stream
    /// the app reads with the vendor's own end of stream (OpenAI Chat Completions <c>finish_reason: "length"</c> and
    /// <c>[DONE]</c>; Anthropic Messages <c>stop_reason: "max_tokens"</c> and <c>message_stop</c>), cancels the upstream
    /// response and records the call as <see cref="TokenUsageStatus.Capped"/>. Output is counted with the tokenizer as the
    /// stream goes; a request can set its own cap with <see cref="MaxStreamOutputTokensKey"/>.</summary>
    /// <value>At least 1, or <see langword="null"/> (the default): no cap, and no extra work on the stream.</value>
    [Range(1, int.MaxValue)]
    public int? MaxStreamOutputTokens { get; set; }

    /// <summary>Gets the request option that sets one request's output cap, over <see cref="MaxStreamOutputTokens"/>:
    /// <c>request.Options.Set(TokenMetricsHandlerOptions.MaxStreamOutputTokensKey, 500)</c>; 0 or less turns the cap off for it.</summary>
    public static HttpRequestOptionsKey<int> MaxStreamOutputTokensKey { get; } = new("TokenMetrics.MaxStreamOutputTokens");

    /// <summary>Gets or sets the vendor this client's OpenAI Chat Completions requests are rewritten to (<c>anthropic</c>,
    /// <c>gcp.gemini</c>, <c>aws.bedrock</c>, <c>dashscope</c>, <c>ollama</c>...: the name of a registered <see cref="ITokenUsageRewriter"/>).</summary>
    /// <value>The default is <see langword="null"/>: no rewriting.</value>
    public string? RewriteTo { get; set; }

    /// <summary>Gets the rewriting settings: vendor endpoint, key, model mapping, context cleanup, vendor-specific settings.</summary>
    public TokenMetricsRewriteOptions Rewrite { get; } = new();

    /// <summary>Gets the session id headers tried when <see cref="SessionIdHeader"/> is not set or empty on a request, in
    /// priority order (Higress ai-statistics): <c>x-openclaw-session-key</c>, <c>x-clawdbot-session-key</c>,
    /// <c>x-moltbot-session-key</c>, <c>x-agent-session</c>.</summary>
    public static IReadOnlyList<string> DefaultSessionIdHeaders { get; } = ["x-openclaw-session-key", "x-clawdbot-session-key", "x-moltbot-session-key", "x-agent-session"];

    /// <summary>Gets or sets the request header read first for the session id; then <see cref="DefaultSessionIdHeaders"/> are
    /// tried in order and the first non-empty value wins. A session set in code (scope, chat options) wins over any header.</summary>
    /// <value>The default is <see langword="null"/>: only the default headers.</value>
    public string? SessionIdHeader { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="DefaultSessionIdHeaders"/> are read.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseDefaultSessionIdHeaders { get; set; } = true;

    /// <summary>Gets or sets the request header the consumer is read from (Higress: the gateway's authenticated consumer).</summary>
    /// <value>The default is <c>x-mse-consumer</c>; <see langword="null"/> reads none.</value>
    public string? ConsumerHeader { get; set; } = "x-mse-consumer";

    /// <summary>Gets or sets the request header the user id is read from.</summary>
    /// <value>The default is <see langword="null"/>: none.</value>
    public string? UserIdHeader { get; set; }

    /// <summary>Gets or sets the request header the feature is read from.</summary>
    /// <value>The default is <see langword="null"/>: none.</value>
    public string? FeatureHeader { get; set; }

    /// <summary>Gets the dimensions read from each metered call (fixed values, request/response headers, request/response body
    /// JSON paths) into the record's tags and/or metric labels. Credential headers are refused at start-up.</summary>
    public IList<TokenUsageDimension> Dimensions { get; } = new List<TokenUsageDimension>();

    /// <summary>Gets or sets the largest length of a value read from a header or a body (a dimension, a session id...):
    /// a longer value keeps its first and last halves around a <c> [truncated] </c> marker.</summary>
    /// <value>Between 16 and 10 MiB. The default is 4000 characters (Higress <c>value_length_limit</c>).</value>
    [Range(16, 10 * 1024 * 1024)]
    public int MaxValueLength { get; set; } = 4000;

    /// <summary>Gets the path suffixes that are metered (seed 000 <c>enable_path_suffixes</c>): a request is metered only when its
    /// path ends with one of them (ordinal, case-insensitive). Empty or containing <c>*</c>: every path the protocols recognise.</summary>
    /// <remarks>Requests no protocol recognises as an LLM endpoint are never metered, whatever this list says.</remarks>
    public IList<string> EnabledPathSuffixes { get; } = new List<string>();

    /// <summary>Gets the response media types that are metered (seed 000 <c>enable_content_types</c>, for example
    /// <c>application/json</c>, <c>text/event-stream</c>); parameters such as <c>charset</c> are ignored. Empty: all. A successful
    /// response of another type passes through unread and unrecorded; error responses are always recorded.</summary>
    public IList<string> EnabledContentTypes { get; } = new List<string>();
}

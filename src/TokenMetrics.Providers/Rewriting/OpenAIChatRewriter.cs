using System.Collections.Generic;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>The skeleton every OpenAI Chat Completions rewriter shares: recognise the request, read and parse its body, check the
/// fields, build the vendor's body, route it (URL, headers, the key moved to the vendor's header), replace the body, tell the
/// context what the call is, and on the way back hand the answer to the vendor's translating reader.</summary>
/// <remarks>Each vendor keeps only what differs: its body (<see cref="BuildBody"/>), its route (<see cref="Route"/>) and its
/// answer reader (<see cref="CreateAnswerReader"/>).</remarks>
/// <param name="timeProvider">The clock for the <c>created</c> field of the app's answer.</param>
internal abstract class OpenAIChatRewriter(TimeProvider timeProvider) : ITokenUsageRewriter
{
    /// <summary>Gets the clock (for the answer's <c>created</c> field, and for request signing).</summary>
    protected TimeProvider TimeProvider { get; } = timeProvider;

    /// <summary>Gets the vendor's name: the <see cref="TokenMetricsHandlerOptions.RewriteTo"/> value and the record's provider.</summary>
    public abstract string Name { get; }

    /// <summary>Gets the request fields the vendor can express, or <see langword="null"/> when <see cref="BuildBody"/> checks them itself.</summary>
    protected virtual ISet<string>? SupportedFields => null;

    /// <summary>Gets how the request path is compared with <c>/chat/completions</c>.</summary>
    protected virtual StringComparison PathComparison => StringComparison.Ordinal;

    /// <inheritdoc/>
    public bool CanHandle(HttpRequestMessage request) =>
        request.Method == HttpMethod.Post && request.RequestUri is { IsAbsoluteUri: true } uri
        && uri.AbsolutePath.AsSpan().TrimEnd('/').EndsWith("/chat/completions", PathComparison);

    /// <inheritdoc/>
    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new NotSupportedException($"Rewriting to {Name}: the request body could not be read (streamed or too large).");
        var rewrite = context.Options.Rewrite;
        var chat = OpenAIChatRequest.Parse(body.Span, rewrite);
        if (SupportedFields is { } supported)
        {
            chat.EnsureOnly(supported, Name);
        }

        var bytes = BuildBody(chat, rewrite);

        // Routed before the body is replaced: a route that throws (Bedrock without a region) never sends the vendor body to the app's URL.
        Route(context.Request, chat, rewrite, bytes);
        context.ReplaceRequestBody(bytes);

        context.Provider = Name;
        context.Operation = "chat";
        context.RequestModel = chat.RequestModel;
        context.RoutedModel = chat.RoutedModel;
        context.IsStreaming = chat.Stream;
        context.ProtocolState = new RewriteState(chat.Stream, chat.IncludeUsage, chat.RoutedModel, TimeProvider.GetUtcNow().ToUnixTimeSeconds());
    }

    /// <inheritdoc/>
    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var state = context.ProtocolState as RewriteState
            ?? new RewriteState(context.IsStreaming, false, context.RoutedModel ?? "unknown", TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        return CreateAnswerReader(context, response, state);
    }

    /// <summary>Returns <paramref name="endpoint"/> with a trailing slash, so that relative paths append to it.</summary>
    internal static Uri EnsureSlash(Uri endpoint) =>
        endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");

    /// <summary>Builds the vendor's request body; throws <see cref="NotSupportedException"/> naming what it cannot express.</summary>
    protected abstract byte[] BuildBody(OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite);

    /// <summary>Points the request at the vendor: URL, headers, and the key (see <see cref="ApiKeys.Take"/>).</summary>
    protected abstract void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body);

    /// <summary>Creates the reader that meters the vendor's answer and translates it back to OpenAI's format.</summary>
    protected abstract TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state);
}

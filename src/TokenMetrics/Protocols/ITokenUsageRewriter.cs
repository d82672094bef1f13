namespace TokenMetrics;

/// <summary>A protocol that rewrites an OpenAI Chat Completions request into another vendor's protocol, and the vendor's
/// answer back into OpenAI's format, so an app written against OpenAI talks to that vendor by configuration alone.</summary>
/// <remarks>
/// <para>Used only for clients whose <see cref="TokenMetricsHandlerOptions.RewriteTo"/> names it (<see cref="ITokenUsageProtocol.Name"/>).
/// <see cref="ITokenUsageProtocol.OnRequestAsync"/> changes the request (URL, headers, body) and sets the provider, models
/// and streaming flag; <see cref="ITokenUsageProtocol.CreateResponseReader"/> returns a reader with
/// <see cref="TokenUsageResponseReader.TransformsContent"/> that writes OpenAI-format bytes for the app. It is called for error
/// responses too, so vendor errors reach the app in OpenAI's error shape; those calls are recorded as errors.</para>
/// <para>A request field the target cannot express must fail the call with <see cref="NotSupportedException"/> naming the
/// field, rather than be dropped silently: the exception reaches the app from <c>SendAsync</c>.</para>
/// </remarks>
public interface ITokenUsageRewriter : ITokenUsageProtocol
{
}

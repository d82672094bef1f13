using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Cohere v2 protocol (<c>/v2/chat</c>, <c>/v2/embed</c>).</summary>
public sealed class CohereProtocolOptions
{
    /// <summary>Gets the hosts metered besides <c>api.cohere.com</c> and <c>api.cohere.ai</c>.</summary>
    public IList<string> Hosts { get; } = [];
}

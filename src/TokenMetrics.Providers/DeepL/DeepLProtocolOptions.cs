using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the DeepL protocol (<c>/v2/translate</c>).</summary>
/// <remarks>DeepL bills characters, not tokens: see <see cref="DeepLProtocolOptions.BilledCharactersDetail"/>.</remarks>
public sealed class DeepLProtocolOptions
{
    /// <summary>The detail name under which billed characters are recorded in <see cref="TokenUsage.InputTokenDetails"/>.</summary>
    public const string BilledCharactersDetail = "billed_characters";

    /// <summary>Gets the hosts metered besides <c>api.deepl.com</c> and <c>api-free.deepl.com</c>.</summary>
    public IList<string> Hosts { get; } = [];
}

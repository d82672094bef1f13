namespace TokenMetrics;

/// <summary>The <c>ChatOptions.AdditionalProperties</c> keys that attribute one <c>IChatClient</c> call.</summary>
/// <example><code>
/// var options = new ChatOptions { ConversationId = "conv-7" };   // the session, unless TokenUsageAttributionKeys.SessionId is set
/// options.AdditionalProperties = new() { [TokenUsageAttributionKeys.UserId] = "alice", [TokenUsageAttributionKeys.Feature] = "summarize" };
/// await chat.GetResponseAsync(messages, options);
/// </code></example>
/// <remarks>Values given with the call win over the ambient <see cref="TokenMetricsScope"/> and over baggage, field by field; tags are
/// merged over theirs. <c>ChatOptions.ConversationId</c> is the session when <see cref="SessionId"/> is absent. Values of another type
/// than documented are ignored.</remarks>
public static class TokenUsageAttributionKeys
{
    /// <summary>A whole <see cref="TokenUsageAttribution"/>; the single-field keys win over its fields.</summary>
    public const string Attribution = "tokenmetrics.attribution";

    /// <summary>The end user (a <see cref="string"/>).</summary>
    public const string UserId = "tokenmetrics.user_id";

    /// <summary>The consumer: tenant, team, calling service (a <see cref="string"/>).</summary>
    public const string Consumer = "tokenmetrics.consumer";

    /// <summary>The session or conversation (a <see cref="string"/>); wins over <c>ChatOptions.ConversationId</c>.</summary>
    public const string SessionId = "tokenmetrics.session_id";

    /// <summary>The product feature (a <see cref="string"/>).</summary>
    public const string Feature = "tokenmetrics.feature";

    /// <summary>Tags: an <c>IEnumerable&lt;KeyValuePair&lt;string, string&gt;&gt;</c> (a dictionary of strings).</summary>
    public const string Tags = "tokenmetrics.tags";
}

using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Which attribution values become labels on the OpenTelemetry metrics, and how each label's values are bounded.</summary>
/// <remarks>Every label is off by default: each distinct value is a new time series in the metrics backend. A label that is on
/// takes at most <see cref="MaxDistinctValues"/> values (the first seen), or only the values in <see cref="AllowedValues"/>;
/// the rest are labelled <c>other</c>, a missing value <c>none</c>. Records (logs, stores) always keep the raw values.</remarks>
public sealed class TokenUsageMetricLabelOptions
{
    /// <summary>The label name of the user id.</summary>
    public const string UserIdLabel = "user.id";

    /// <summary>The label name of the consumer.</summary>
    public const string ConsumerLabel = "tokenmetrics.consumer";

    /// <summary>The label name of the session id.</summary>
    public const string SessionIdLabel = "session.id";

    /// <summary>The label name of the feature.</summary>
    public const string FeatureLabel = "tokenmetrics.feature";

    /// <summary>Gets or sets a value indicating whether <see cref="TokenUsageRecord.UserId"/> becomes the label <c>user.id</c>.</summary>
    public bool UserId { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="TokenUsageRecord.Consumer"/> becomes the label <c>tokenmetrics.consumer</c>.</summary>
    public bool Consumer { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="TokenUsageRecord.SessionId"/> becomes the label <c>session.id</c>
    /// (rarely wise: sessions are many; consider an allow-list).</summary>
    public bool SessionId { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="TokenUsageRecord.Feature"/> becomes the label <c>tokenmetrics.feature</c>.</summary>
    public bool Feature { get; set; }

    /// <summary>Gets or sets how many distinct values each label takes before new values are labelled <c>other</c>.</summary>
    /// <value>Between 1 and 10000. The default is 100.</value>
    public int MaxDistinctValues { get; set; } = 100;

    /// <summary>Gets the allow-lists, by label name (<see cref="UserIdLabel"/>...): only these values are labelled as themselves.
    /// User ids are listed raw; they are hashed after the check when <see cref="HashUserId"/> is on.</summary>
    public IDictionary<string, IList<string>> AllowedValues { get; } = new Dictionary<string, IList<string>>(StringComparer.Ordinal);

    /// <summary>Gets or sets a value indicating whether the <c>user.id</c> label is an HMAC-SHA256 of the user id under
    /// <see cref="UserIdHashKey"/> (truncated hex) instead of the id itself.</summary>
    public bool HashUserId { get; set; }

    /// <summary>Gets or sets the secret HMAC key (at least 16 characters); required when <see cref="HashUserId"/> is on.
    /// Keep it in a secret store; TokenMetrics never writes it anywhere.</summary>
    public string? UserIdHashKey { get; set; }

    /// <summary>Gets or sets the number of hex characters kept from the HMAC.</summary>
    /// <value>An even number between 8 and 64. The default is 16 (64 bits).</value>
    public int UserIdHashLength { get; set; } = 16;

    /// <summary>Returns the problems with these settings, as (message, member) pairs; empty when valid.</summary>
    internal IEnumerable<(string Message, string Member)> Validate()
    {
        if (MaxDistinctValues is < 1 or > 10000)
        {
            yield return ("must be between 1 and 10000", nameof(MaxDistinctValues));
        }

        if (HashUserId && (UserIdHashKey is null || UserIdHashKey.Length < 16))
        {
            // The message never repeats the key.
            yield return ("must be set (at least 16 characters) when HashUserId is on", nameof(UserIdHashKey));
        }

        if (UserIdHashLength is < 8 or > 64 || UserIdHashLength % 2 != 0)
        {
            yield return ("must be an even number between 8 and 64", nameof(UserIdHashLength));
        }
    }
}

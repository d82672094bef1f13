using System.Collections.Generic;
using System.Threading;

namespace TokenMetrics;

/// <summary>Attributes the LLM calls made on the current async flow to a user, consumer, session and tags.</summary>
/// <example><code>
/// using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "u-42", SessionId = "chat-7" }))
/// {
///     await client.GetResponseAsync(messages);   // the record carries UserId and SessionId
/// }
/// </code></example>
/// <remarks>Scopes nest: an inner scope's non-null values win, its tags are merged over the outer ones.</remarks>
public static class TokenMetricsScope
{
    private static readonly AsyncLocal<TokenUsageAttribution?> CurrentAttribution = new();

    /// <summary>Gets the attribution in force on the current async flow, or <see langword="null"/>.</summary>
    public static TokenUsageAttribution? Current => CurrentAttribution.Value;

    /// <summary>Starts a scope; dispose the result to end it.</summary>
    /// <param name="attribution">The attribution.</param>
    /// <returns>The scope.</returns>
    public static IDisposable Begin(TokenUsageAttribution attribution)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        var outer = CurrentAttribution.Value;
        CurrentAttribution.Value = outer is null ? attribution : Merge(outer, attribution);
        return new Scope(outer);
    }

    /// <summary>Starts a scope for a user and/or session.</summary>
    /// <param name="userId">The end user.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="consumer">The consumer.</param>
    /// <returns>The scope.</returns>
    public static IDisposable Begin(string? userId = null, string? sessionId = null, string? consumer = null) =>
        Begin(new TokenUsageAttribution { UserId = userId, SessionId = sessionId, Consumer = consumer });

    internal static TokenUsageRecord Apply(TokenUsageRecord record, TokenUsageAttribution? attribution)
    {
        if (attribution is null)
        {
            return record;
        }

        return record with
        {
            UserId = record.UserId ?? attribution.UserId,
            Consumer = record.Consumer ?? attribution.Consumer,
            SessionId = record.SessionId ?? attribution.SessionId,
            Feature = record.Feature ?? attribution.Feature,
            Tags = record.Tags ?? attribution.Tags,
        };
    }

    private static TokenUsageAttribution Merge(TokenUsageAttribution outer, TokenUsageAttribution inner)
    {
        Dictionary<string, string>? tags = null;
        if (outer.Tags is not null || inner.Tags is not null)
        {
            tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var source in new[] { outer.Tags, inner.Tags })
            {
                if (source is not null)
                {
                    foreach (var (k, v) in source)
                    {
                        tags[k] = v;
                    }
                }
            }
        }

        return new TokenUsageAttribution
        {
            UserId = inner.UserId ?? outer.UserId,
            Consumer = inner.Consumer ?? outer.Consumer,
            SessionId = inner.SessionId ?? outer.SessionId,
            Feature = inner.Feature ?? outer.Feature,
            Tags = tags,
        };
    }

    private sealed class Scope(TokenUsageAttribution? outer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                CurrentAttribution.Value = outer;
            }
        }
    }
}

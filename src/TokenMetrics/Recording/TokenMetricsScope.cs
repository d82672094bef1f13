using System.Threading;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Attributes the LLM calls made on the current async flow to a user, consumer, session, feature and tags.</summary>
/// <example><code>
/// using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "u-42", SessionId = "chat-7", Feature = "summarize" }))
/// {
///     await client.GetResponseAsync(messages);   // the record carries UserId, SessionId and Feature
/// }
/// </code></example>
/// <remarks>
/// <para>Scopes nest: an inner scope's non-null values win, its tags are merged over the outer ones; ending a scope restores the outer
/// one. The attribution is resolved once per call, when the call starts: values given with the call (<c>ChatOptions</c>) win over
/// the scope, the scope over W3C baggage (see <see cref="TokenMetricsBaggageOptions"/>).</para>
/// <para>With <see cref="TokenMetricsBaggageOptions.Propagate"/> a scope also puts its values into baggage until it ends, so the
/// services called inside it attribute their LLM calls to the same user.</para>
/// </remarks>
public static class TokenMetricsScope
{
    private static readonly AsyncLocal<TokenUsageAttribution?> CurrentAttribution = new();

    /// <summary>Gets the attribution in force on the current async flow (the scopes' values, merged), or <see langword="null"/>.</summary>
    public static TokenUsageAttribution? Current => CurrentAttribution.Value;

    /// <summary>Starts a scope; dispose the result to end it.</summary>
    /// <param name="attribution">The attribution.</param>
    /// <returns>The scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="attribution"/> is <see langword="null"/>.</exception>
    public static IDisposable Begin(TokenUsageAttribution attribution)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        var outer = CurrentAttribution.Value;
        var merged = AttributionResolver.Merge(attribution, outer) ?? attribution;
        CurrentAttribution.Value = merged;
        BaggagePropagation? baggage = null;
        if (AttributionSettings.Propagating is { } propagating)
        {
            try
            {
                baggage = BaggagePropagation.Push(propagating, merged);
            }
            catch (Exception)
            {
                // Baggage is a courtesy to the services called next; it never fails the app's scope.
            }
        }

        return new Scope(outer, baggage);
    }

    /// <summary>Starts a scope for a user and/or session.</summary>
    /// <param name="userId">The end user.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="consumer">The consumer.</param>
    /// <returns>The scope.</returns>
    public static IDisposable Begin(string? userId = null, string? sessionId = null, string? consumer = null) =>
        Begin(new TokenUsageAttribution { UserId = userId, SessionId = sessionId, Consumer = consumer });

    private sealed class Scope(TokenUsageAttribution? outer, BaggagePropagation? baggage) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                CurrentAttribution.Value = outer;
                try
                {
                    baggage?.Pop();
                }
                catch (Exception)
                {
                    // See Begin.
                }
            }
        }
    }
}

using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Where budget counters live: in process (the default) or shared by every instance of the app (Redis, PostgreSQL).</summary>
/// <remarks>
/// <para>Counters are fixed windows: a counter key plus the window length name one counter per window, the window being the
/// one that contains the store's own clock (a shared store uses the server's clock, so every instance agrees). Amounts are
/// whole units: tokens, or cost in millionths of the currency.</para>
/// <para>Implementations must be atomic per counter (check and add in one step) and must not throw for an unreachable backend
/// when they can answer otherwise; the budget layer fences every call and applies the fail-open/fail-closed choice.</para>
/// </remarks>
public interface ITokenUsageBudgetStore
{
    /// <summary>Adds <paramref name="amount"/> to the counter of the current window if the total stays within <paramref name="limit"/>;
    /// otherwise adds nothing.</summary>
    /// <param name="counterKey">The counter (budget name and subject, for example <c>tpm:user:alice</c>); never contains secrets.</param>
    /// <param name="amount">The amount to reserve (≥ 0).</param>
    /// <param name="limit">The most the window may hold.</param>
    /// <param name="window">The window length (for example 1 minute or 1 day).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the amount was taken, what is left, and when the window resets.</returns>
    ValueTask<TokenUsageBudgetCheck> TryConsumeAsync(string counterKey, long amount, long limit, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="delta"/> (negative to give back) to the counter of the current window unconditionally: how a
    /// reservation is reconciled with the usage the vendor reported.</summary>
    /// <param name="counterKey">The counter.</param>
    /// <param name="delta">The change.</param>
    /// <param name="window">The window length.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the change is applied.</returns>
    ValueTask AddAsync(string counterKey, long delta, TimeSpan window, CancellationToken cancellationToken);
}

/// <summary>The answer of <see cref="ITokenUsageBudgetStore.TryConsumeAsync"/>.</summary>
/// <param name="Allowed">Whether the amount was taken.</param>
/// <param name="Used">The window's total after the call (unchanged when not allowed).</param>
/// <param name="Remaining">What the window can still take (≥ 0).</param>
/// <param name="ResetAfter">How long until the window resets.</param>
public readonly record struct TokenUsageBudgetCheck(bool Allowed, long Used, long Remaining, TimeSpan ResetAfter);

using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace TokenMetrics;

/// <summary>One-time sign-in links for the built-in token sign-in: <see cref="Create"/> returns a ticket for
/// <c>{prefix}/login/link?ticket=...</c>, which signs a browser in once, within <see cref="TokenMetricsTokenOptions.LinkLifetime"/>.</summary>
/// <remarks>Thread-safe; registered as a singleton by <c>AddTokenMetricsToken()</c>. At most 100 tickets are outstanding: creating
/// more retires the oldest. Tickets live in memory only (a restart invalidates them).</remarks>
public sealed class TokenMetricsSignInLinks
{
    private const int MaxOutstanding = 100;
    private readonly Dictionary<string, DateTimeOffset> _tickets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsSignInLinks"/> class.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="options">The token options (for the link lifetime).</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public TokenMetricsSignInLinks(TimeProvider time, IOptionsMonitor<TokenMetricsTokenOptions> options)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _lifetime = options.Get(TokenMetricsTokenDefaults.AuthenticationScheme).LinkLifetime;
    }

    /// <summary>Creates a single-use ticket (256 random bits, URL-safe).</summary>
    /// <returns>The ticket, for <c>{prefix}/login/link?ticket=</c>.</returns>
    public string Create()
    {
        var ticket = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = _time.GetUtcNow();
        lock (_tickets)
        {
            foreach (var expired in _tickets.Where(t => t.Value <= now).Select(t => t.Key).ToList())
            {
                _ = _tickets.Remove(expired);
            }

            while (_tickets.Count >= MaxOutstanding)
            {
                _ = _tickets.Remove(_tickets.MinBy(t => t.Value).Key);
            }

            _tickets[ticket] = now + _lifetime;
        }

        return ticket;
    }

    /// <summary>Uses a ticket up: true once for a ticket created here and not expired.</summary>
    internal bool TryRedeem(string? ticket)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 100)
        {
            return false;
        }

        lock (_tickets)
        {
            return _tickets.Remove(ticket, out var expires) && expires > _time.GetUtcNow();
        }
    }
}

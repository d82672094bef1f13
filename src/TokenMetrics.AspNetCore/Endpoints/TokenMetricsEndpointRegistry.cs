using System.Collections.Generic;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Registered by <c>AddTokenMetricsEndpoints()</c>: its presence says the services are there; it remembers the prefixes
/// <c>MapTokenMetrics()</c> mapped, for the start-up check.</summary>
internal sealed class TokenMetricsEndpointRegistry
{
    private readonly List<PathString> _prefixes = [];

    public IReadOnlyList<PathString> Prefixes
    {
        get
        {
            lock (_prefixes)
            {
                return [.. _prefixes];
            }
        }
    }

    public void Add(PathString prefix)
    {
        lock (_prefixes)
        {
            _prefixes.Add(prefix);
        }
    }
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Registered by <c>AddTokenMetricsEndpoints()</c>: its presence says the services are there; it remembers the prefixes
/// <c>MapTokenMetrics()</c> mapped, for the start-up check.</summary>
internal sealed class TokenMetricsEndpointRegistry
{
    private readonly List<PathString> _prefixes = [];
    private readonly List<IEndpointRouteBuilder> _builders = [];

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

    /// <summary>Gets the endpoints of the route builders the groups were mapped on (the app's own list: minimal hosting hands its
    /// data sources to routing only when the server starts, after the start-up check).</summary>
    public IEnumerable<Endpoint> Endpoints
    {
        get
        {
            lock (_prefixes)
            {
                return [.. _builders.Distinct().SelectMany(b => b.DataSources).SelectMany(s => s.Endpoints)];
            }
        }
    }

    public void Add(PathString prefix, IEndpointRouteBuilder builder)
    {
        lock (_prefixes)
        {
            _prefixes.Add(prefix);
            _builders.Add(builder);
        }
    }
}

namespace TokenMetrics.Testing.Internal;

/// <summary>Matches requests to protocol endpoints. The first protocol is the fallback for unmatched paths.</summary>
internal sealed class MockRouter
{
    private readonly IReadOnlyList<IMockProtocol> _protocols;

    public MockRouter(params IReadOnlyList<IMockProtocol> protocols)
    {
        if (protocols.Count == 0)
        {
            throw new ArgumentException("At least one protocol is needed.", nameof(protocols));
        }

        _protocols = protocols;
    }

    public (IMockProtocol Protocol, MockRoute? Route) Match(string method, string path)
    {
        foreach (var protocol in _protocols)
        {
            foreach (var route in protocol.Routes)
            {
                if (string.Equals(route.Method, method, StringComparison.OrdinalIgnoreCase) && route.MatchesPath(path))
                {
                    return (protocol, route);
                }
            }
        }

        foreach (var protocol in _protocols)
        {
            if (protocol.OwnsPath(path))
            {
                return (protocol, null);
            }
        }

        return (_protocols[0], null);
    }
}

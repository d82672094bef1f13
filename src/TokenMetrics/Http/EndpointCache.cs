namespace TokenMetrics.Internal;

/// <summary>Remembers the credential-free endpoint of the last URI a handler saw: an app calls the same few endpoints,
/// so the strings are built once instead of per call.</summary>
internal sealed class EndpointCache
{
    private Entry? _last;

    public Entry? Get(Uri? uri)
    {
        if (uri is not { IsAbsoluteUri: true })
        {
            return null;
        }

        var last = _last;
        if (last is not null && string.Equals(last.OriginalString, uri.OriginalString, StringComparison.Ordinal))
        {
            return last;
        }

        // Scheme, host, port and path only: never user info, query (`?key=`) or fragment.
        var entry = new Entry(uri.OriginalString, uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), uri.Host, uri.Port);
        _last = entry;
        return entry;
    }

    internal sealed record Entry(string OriginalString, string Endpoint, string Host, int Port);
}

using System.Collections.Concurrent;

namespace TokenMetrics.Internal;

/// <summary>The parts of a request URI that metering reads (path, host, port, credential-free endpoint), parsed once per
/// distinct URI string: an app calls the same few endpoints, and every request brings a new <see cref="Uri"/> whose
/// <c>AbsolutePath</c>/<c>Host</c> would otherwise parse and allocate again on every call (about 270 B).</summary>
/// <remarks>Keyed by <see cref="Uri.OriginalString"/>, which determines the parse; bounded, so URIs that are all different
/// (ids in the query) cost one parse each and never grow the cache.</remarks>
internal static class EndpointCache
{
    private const int MaxEntries = 1024;
    private static readonly ConcurrentDictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    /// <summary>Returns the parts of <paramref name="uri"/>, or <see langword="null"/> when it is not absolute.</summary>
    public static Entry? Get(Uri? uri)
    {
        if (uri is not { IsAbsoluteUri: true })
        {
            return null;
        }

        var key = uri.OriginalString;
        if (Entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        // Scheme, host, port and path only: never user info, query (`?key=`) or fragment.
        entry = new Entry(uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), uri.Host, uri.Port, uri.AbsolutePath);
        if (Entries.Count < MaxEntries)
        {
            _ = Entries.TryAdd(key, entry);
        }

        return entry;
    }

    /// <summary>The path of <paramref name="uri"/> (<see cref="Uri.AbsolutePath"/>), from the cache.</summary>
    public static string Path(Uri uri) => Get(uri)?.Path ?? uri.OriginalString;

    /// <summary>The host of <paramref name="uri"/> (<see cref="Uri.Host"/>), from the cache.</summary>
    public static string Host(Uri uri) => Get(uri)?.Host ?? string.Empty;

    internal sealed record Entry(string Endpoint, string Host, int Port, string Path);
}

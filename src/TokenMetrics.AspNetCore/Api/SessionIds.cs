using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>Reads a session id from the end of a request path. Ids may hold <c>/ ? &amp; : %</c>; clients send them escaped with
/// <c>encodeURIComponent</c> / <see cref="Uri.EscapeDataString(string)"/>.</summary>
internal static class SessionIds
{
    /// <summary>The id after <paramref name="marker"/>: unescaped from the raw request target when the server keeps it (Kestrel leaves
    /// <c>%2F</c> escaped in the decoded path, so the decoded path alone cannot tell an escaped slash from a literal <c>%2F</c>);
    /// else from the decoded path.</summary>
    public static string? FromRequest(HttpContext context, string marker)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw) && raw.StartsWith('/'))
        {
            var end = raw.IndexOf('?', StringComparison.Ordinal);
            var path = end < 0 ? raw : raw[..end];
            var at = path.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at >= 0)
            {
                try
                {
                    return Uri.UnescapeDataString(path[(at + marker.Length)..]);
                }
                catch (UriFormatException)
                {
                    // fall back to the decoded path
                }
            }
        }

        var value = context.Request.Path.Value ?? string.Empty;
        var index = value.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        return index < 0 ? null : value[(index + marker.Length)..].Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }
}

using System.Linq;
using System.Net.Http;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Moves the app's credential to where the vendor expects it (Higress ai-proxy order).</summary>
internal static class ApiKeys
{
    /// <summary>Returns the key to send: the configured one, else the app's <c>x-api-key</c>, <c>x-authorization</c>, <c>api-key</c>
    /// or <c>Authorization</c> (a <c>Bearer </c> prefix stripped). Removes all of those headers from the request so that the
    /// OpenAI key never reaches another vendor in the wrong header.</summary>
    public static string? Take(HttpRequestMessage request, TokenMetricsRewriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        string? fromApp = null;
        foreach (var name in new[] { "x-api-key", "x-authorization", "api-key" })
        {
            if (fromApp is null && request.Headers.TryGetValues(name, out var values))
            {
                fromApp = values.FirstOrDefault();
            }

            request.Headers.Remove(name);
        }

        if (request.Headers.Authorization is { } auth)
        {
            fromApp ??= string.Equals(auth.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase) ? auth.Parameter : auth.ToString();
            request.Headers.Authorization = null;
        }

        if (fromApp is not null && fromApp.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            fromApp = fromApp[7..];
        }

        return options.ApiKey ?? fromApp;
    }
}

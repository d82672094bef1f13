using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Fails the app's start when an endpoint of a TokenMetrics group (or any endpoint under its prefix) carries no
/// authorization metadata, and warns when the endpoints are served anonymously. Runs when the host starts, after the app mapped
/// its endpoints and before it serves a request.</summary>
internal sealed partial class TokenMetricsEndpointStartupCheck(
    TokenMetricsEndpointRegistry registry,
    IOptions<TokenMetricsEndpointOptions> options,
    IEnumerable<EndpointDataSource> dataSources,
    ILogger<TokenMetricsEndpointStartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var prefixes = registry.Prefixes;
        if (prefixes.Count == 0)
        {
            return Task.CompletedTask;
        }

        if (options.Value.AllowAnonymous)
        {
            LogAnonymous(logger, string.Join(", ", prefixes));
        }

        var unprotected = Check(registry.Endpoints.Concat(dataSources.SelectMany(s => s.Endpoints)), prefixes);
        if (unprotected.Count > 0)
        {
            throw new InvalidOperationException(
                "TokenMetrics endpoints must require authorization, but these carry no authorization metadata: " + string.Join(", ", unprotected)
                + ". Map them inside the MapTokenMetrics() group (it requires the TokenMetrics.Read policy), add RequireAuthorization(), "
                + "or AllowAnonymous() explicitly when they serve no data.");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The display names of the TokenMetrics endpoints without authorization metadata.</summary>
    internal static List<string> Check(IEnumerable<Endpoint> endpoints, IReadOnlyList<PathString> prefixes)
    {
        var unprotected = new List<string>();
        foreach (var endpoint in endpoints.Distinct())
        {
            var ours = endpoint.Metadata.GetMetadata<TokenMetricsEndpointMetadata>() is not null
                || (endpoint is RouteEndpoint { RoutePattern.RawText: { } raw } && prefixes.Any(p => UnderPrefix(raw, p)));
            if (!ours)
            {
                continue;
            }

            var authorized = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
                || endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null
                || endpoint.Metadata.GetMetadata<AuthorizationPolicy>() is not null
                || endpoint.Metadata.GetMetadata<IAuthorizationRequirementData>() is not null;
            if (!authorized)
            {
                unprotected.Add(endpoint.DisplayName ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(unnamed endpoint)");
            }
        }

        return unprotected;
    }

    private static bool UnderPrefix(string pattern, PathString prefix)
    {
        var path = "/" + pattern.TrimStart('/');
        return new PathString(path).StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "TokenMetrics endpoints under {Prefixes} are served WITHOUT authorization (TokenMetricsEndpointOptions.AllowAnonymous): anyone who can reach them can read usage and change settings. Only for a dashboard reachable by its operators alone.")]
    private static partial void LogAnonymous(ILogger logger, string prefixes);
}

using System.Collections.Generic;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Adds the default <see cref="TokenMetricsPolicies"/> after the app's own configuration, so a policy the app registers
/// under the same name wins wherever it registers it. With the built-in token sign-in registered, the policies authenticate with it
/// (and with the app's default scheme, if it has another one).</summary>
internal sealed class TokenMetricsPolicySetup(IOptions<TokenMetricsEndpointOptions> endpointOptions, IOptions<AuthenticationOptions> authentication)
    : IPostConfigureOptions<AuthorizationOptions>
{
    public void PostConfigure(string? name, AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var schemes = Schemes(authentication.Value);
        if (options.GetPolicy(TokenMetricsPolicies.Read) is null)
        {
            options.AddPolicy(TokenMetricsPolicies.Read, p => p.AddAuthenticationSchemes(schemes).RequireAuthenticatedUser());
        }

        if (options.GetPolicy(TokenMetricsPolicies.Admin) is null)
        {
            var role = endpointOptions.Value.AdminRole;
            options.AddPolicy(TokenMetricsPolicies.Admin, p => p.AddAuthenticationSchemes(schemes).RequireAuthenticatedUser().RequireRole(role));
        }
    }

    private static string[] Schemes(AuthenticationOptions authentication)
    {
        var hasToken = false;
        foreach (var scheme in authentication.Schemes)
        {
            hasToken |= scheme.Name == TokenMetricsTokenDefaults.AuthenticationScheme;
        }

        if (!hasToken)
        {
            return []; // the app's default scheme, as for any policy
        }

        var list = new List<string> { TokenMetricsTokenDefaults.AuthenticationScheme };
        var fallback = authentication.DefaultAuthenticateScheme ?? authentication.DefaultScheme;
        if (fallback is not null && fallback != TokenMetricsTokenDefaults.AuthenticationScheme)
        {
            list.Add(fallback);
        }

        return [.. list];
    }
}

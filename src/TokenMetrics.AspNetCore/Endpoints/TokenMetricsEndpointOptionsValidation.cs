using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Checks <see cref="TokenMetricsEndpointOptions"/> at start-up.</summary>
internal sealed class TokenMetricsEndpointOptionsValidation : IValidateOptions<TokenMetricsEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxPageSize is < 1 or > TokenUsageFilter.MaxLimit)
        {
            errors.Add($"TokenMetricsEndpointOptions.MaxPageSize must be between 1 and {TokenUsageFilter.MaxLimit} (was {options.MaxPageSize}).");
        }

        if (options.MaxRange <= TimeSpan.Zero || options.MaxRange > TimeSpan.FromDays(3660))
        {
            errors.Add($"TokenMetricsEndpointOptions.MaxRange must be above zero and at most 3660 days (was {options.MaxRange}).");
        }

        if (options.DashboardRefreshInterval < TimeSpan.Zero || (options.DashboardRefreshInterval > TimeSpan.Zero && options.DashboardRefreshInterval < TimeSpan.FromSeconds(1)))
        {
            errors.Add($"TokenMetricsEndpointOptions.DashboardRefreshInterval must be zero (off) or at least one second (was {options.DashboardRefreshInterval}).");
        }

        if (string.IsNullOrWhiteSpace(options.AdminRole))
        {
            errors.Add("TokenMetricsEndpointOptions.AdminRole must not be empty.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics;

/// <summary>Configures TokenMetrics after <c>services.AddTokenMetrics()</c>: exporters, protocols, export settings.</summary>
public interface ITokenMetricsBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }
}

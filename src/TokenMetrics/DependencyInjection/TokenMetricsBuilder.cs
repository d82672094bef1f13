using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.Internal;

internal sealed record TokenMetricsBuilder(IServiceCollection Services) : ITokenMetricsBuilder;

namespace TokenMetrics.AspNetCore.Tests;

public class MapTokenMetricsTests
{
    [Fact]
    public void MapTokenMetrics_returns_a_group_under_the_prefix()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        var app = builder.Build();
        var group = Microsoft.AspNetCore.Builder.TokenMetricsEndpointRouteBuilderExtensions.MapTokenMetrics(app, "/tm");
        Assert.NotNull(group);
    }
}

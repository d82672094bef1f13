namespace TokenMetrics.Budgets.Redis.Tests;

/// <summary>One private redis-server shared by the tests of a collection (each test uses its own counter keys).</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private RedisTestServer? _server;

    /// <summary>Gets the running server.</summary>
    public RedisTestServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await RedisTestServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis";
}

namespace TokenMetrics.Storage.Tests;

/// <summary>One private PostgreSQL server for the PostgreSQL test collection; see <see cref="PostgreSqlTestServer"/>.</summary>
public sealed class PostgreSqlServerFixture : IAsyncLifetime
{
    private PostgreSqlTestServer? _server;

    /// <summary>Gets the connection string.</summary>
    public string ConnectionString => _server?.ConnectionString ?? throw new InvalidOperationException("The PostgreSQL server did not start.");

    /// <inheritdoc/>
    public async Task InitializeAsync() => _server = await PostgreSqlTestServer.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The tests that share the PostgreSQL server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlServerFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "PostgreSQL";
}

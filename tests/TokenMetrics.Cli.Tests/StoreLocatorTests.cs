using TokenMetrics.Cli;
using TokenMetrics.Storage.PostgreSql;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli.Tests;

public class StoreLocatorTests
{
    [Fact]
    public async Task A_missing_sqlite_file_is_an_input_error_for_reads_and_created_for_ingest()
    {
        var path = Path.Combine(Path.GetTempPath(), "tm-cli-" + Guid.NewGuid().ToString("N") + ".db");
        var error = Assert.Throws<CliException>(() => StoreLocator.Open("sqlite:" + path, create: false));
        Assert.Equal(ExitCodes.InputError, error.ExitCode);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);

        var store = StoreLocator.Open(path, create: true);
        try
        {
            Assert.IsType<SqliteTokenUsageStore>(store);
            Assert.Equal(0, await store.WriteAsync([], default));
        }
        finally
        {
            await ((IAsyncDisposable)store).DisposeAsync();
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("postgres:")]
    [InlineData("sqlite:")]
    public void An_empty_location_is_a_usage_error(string spec) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CliException>(() => StoreLocator.Open(spec, create: true)).ExitCode);

    [Fact]
    public async Task Postgres_prefix_opens_the_postgres_store()
    {
        var store = StoreLocator.Open("postgres:Host=127.0.0.1;Port=1;Username=x;Database=x", create: false);
        await ((IAsyncDisposable)store).DisposeAsync();
        Assert.IsType<PostgreSqlTokenUsageStore>(store);
    }
}

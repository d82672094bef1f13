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

    [Fact]
    public async Task A_database_created_for_ingest_has_bulk_pages_and_reads_keep_the_app_default()
    {
        var path = Path.Combine(Path.GetTempPath(), "tm-cli-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var store = StoreLocator.Open(path, create: true);
            await using (((IAsyncDisposable)store).ConfigureAwait(false))
            {
                Assert.Equal(0, await store.WriteAsync([], default));
                await ((SqliteTokenUsageStore)store).InitializeAsync();
            }

            Assert.Equal(StoreLocator.BulkPageSize, PageSize(path));

            // Reading it (reports) opens it as it is.
            var reader = StoreLocator.Open(path, create: false);
            await using (((IAsyncDisposable)reader).ConfigureAwait(false))
            {
                Assert.Equal(0, (await reader.QueryAsync(new TokenUsageQuery(), default)).Total);
            }

            Assert.Equal(StoreLocator.BulkPageSize, PageSize(path));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }

        static long PageSize(string path)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path + ";Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA page_size";
            return (long)command.ExecuteScalar()!;
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

using System.Data.Common;
using System.Threading.Tasks;

namespace TokenMetrics.Cli.Reports;

/// <summary>Opens the store for one read-only command, runs it, closes the store, and turns a database failure (an unreachable
/// server, a file that is not a TokenMetrics database) into one actionable line instead of an "unexpected error".</summary>
internal static class ReportStore
{
    public static async Task<int> UseAsync(string? spec, string label, Func<ITokenUsageStore, Task<int>> action)
    {
        var store = StoreLocator.Open(spec, create: false);
        try
        {
            return await action(store).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw new CliException(ExitCodes.InputError, $"cannot read the store {label}: {ex.Message} Check --store (or ${StoreLocator.EnvironmentVariable}) names a TokenMetrics database you can reach.");
        }
        finally
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                (store as IDisposable)?.Dispose();
            }
        }
    }
}

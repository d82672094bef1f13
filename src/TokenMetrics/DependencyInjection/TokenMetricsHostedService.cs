using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace TokenMetrics.Internal;

/// <summary>Starts the recorder with the host (so configuration errors surface at start-up) and flushes it on stop.</summary>
/// <remarks>Takes the settings service only to create it with the host, so configuration reloads are followed from the start.</remarks>
#pragma warning disable CS9113 // The settings service is a parameter only to be created at start-up.
internal sealed class TokenMetricsHostedService(TokenUsageRecorder recorder, TokenMetricsSettingsService settings) : IHostedService
#pragma warning restore CS9113
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // ShutdownAsync is bounded by ShutdownTimeout and never throws; the host's token only shortens our wait.
        _ = await recorder.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Marks a service collection to which TokenMetrics was added.</summary>
internal sealed class TokenMetricsMarker;

using Microsoft.Extensions.DependencyInjection;
using TokenMetrics;

namespace Microsoft.Extensions.AI;

/// <summary>Provides extensions for configuring <see cref="TokenMetricsChatClient"/> instances in a chat client pipeline.</summary>
public static class TokenMetricsChatClientBuilderExtensions
{
    /// <summary>Adds TokenMetrics to the chat client pipeline: every model round-trip beneath this point becomes one
    /// <see cref="TokenUsageRecord"/>.</summary>
    /// <remarks>
    /// <para>Place it after <c>UseFunctionInvocation()</c> (closer to the model) for one record per round in every case; placed before
    /// it, streamed loops are still split per round, but a non-streamed loop yields one record with the summed usage unless a metered
    /// <c>HttpClient</c> beneath records each round. See <see cref="TokenMetricsChatClient"/>.</para>
    /// <para>With <c>services.AddChatClient(...).UseTokenMetrics()</c>, call <c>services.AddTokenMetrics()</c> too.</para>
    /// </remarks>
    /// <param name="builder">The <see cref="ChatClientBuilder"/>.</param>
    /// <param name="recorder">An optional <see cref="TokenUsageRecorder"/>. If not supplied, the one registered by <c>AddTokenMetrics()</c>
    /// is resolved from the service provider passed to <see cref="ChatClientBuilder.Build(IServiceProvider?)"/>.</param>
    /// <param name="configure">An optional callback that can be used to configure the <see cref="TokenMetricsChatClient"/> instance.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">At build time: no <paramref name="recorder"/> was given and <c>AddTokenMetrics()</c> was not called.</exception>
    public static ChatClientBuilder UseTokenMetrics(this ChatClientBuilder builder, TokenUsageRecorder? recorder = null, Action<TokenMetricsChatClient>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((innerClient, services) =>
        {
            var chatClient = new TokenMetricsChatClient(innerClient, recorder ?? services.GetService<TokenUsageRecorder>() ?? throw new InvalidOperationException(
                "UseTokenMetrics() found no TokenUsageRecorder: call services.AddTokenMetrics() on the service collection whose provider builds this chat client, or pass a recorder to UseTokenMetrics(recorder)."));
            configure?.Invoke(chatClient);
            return chatClient;
        });
    }
}

using System.Linq;
using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.Providers;

/// <summary>The one way the vendor extensions (<c>AddAnthropic</c>, <c>AddGemini</c>, ...) build their options and register their protocols.</summary>
internal static class ProviderRegistration
{
    /// <summary>New options with <paramref name="configure"/> applied.</summary>
    public static T Configure<T>(Action<T>? configure)
        where T : new()
    {
        var options = new T();
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Registers <paramref name="protocols"/> (protocols and rewriters) after removing earlier registrations of their types.</summary>
    public static ITokenMetricsBuilder Register(ITokenMetricsBuilder builder, params ITokenUsageProtocol[] protocols) =>
        Register(builder, [.. protocols.Select(static p => p.GetType())], protocols);

    /// <summary>Registers <paramref name="protocols"/> after removing earlier registrations of the <paramref name="replaces"/> types.</summary>
    /// <remarks>Calling an Add method again replaces its earlier registration (the last configuration wins), never duplicates it;
    /// the new registration goes last, so the order of the Add calls stays the order in which protocols are asked.</remarks>
    public static ITokenMetricsBuilder Register(ITokenMetricsBuilder builder, Type[] replaces, params ITokenUsageProtocol[] protocols)
    {
        var services = builder.Services;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];

            // ImplementationInstance throws on keyed descriptors: those are someone else's and stay.
            if (d.ServiceType == typeof(ITokenUsageProtocol) && !d.IsKeyedService && d.ImplementationInstance is { } existing
                && Array.IndexOf(replaces, existing.GetType()) >= 0)
            {
                services.RemoveAt(i);
            }
        }

        foreach (var protocol in protocols)
        {
            services.AddSingleton(protocol);
        }

        return builder;
    }
}

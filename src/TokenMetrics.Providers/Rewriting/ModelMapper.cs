using System.Collections.Generic;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Higress model-mapper semantics: an exact key wins, then the longest <c>prefix*</c> key, then <c>*</c>; a mapped value of
/// <c>""</c> keeps the requested model.</summary>
internal static class ModelMapper
{
    public static string Map(string model, IDictionary<string, string>? mapping)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (mapping is null || mapping.Count == 0)
        {
            return model;
        }

        if (mapping.TryGetValue(model, out var exact))
        {
            return exact.Length == 0 ? model : exact;
        }

        string? best = null;
        var bestLength = -1;
        foreach (var (key, value) in mapping)
        {
            if (key.Length > 1 && key[^1] == '*' && key.Length - 1 > bestLength && model.StartsWith(key.AsSpan(0, key.Length - 1), StringComparison.Ordinal))
            {
                best = value;
                bestLength = key.Length - 1;
            }
        }

        if (best is null && mapping.TryGetValue("*", out var fallback))
        {
            best = fallback;
        }

        return string.IsNullOrEmpty(best) ? model : best;
    }
}

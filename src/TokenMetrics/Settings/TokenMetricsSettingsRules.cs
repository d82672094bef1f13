using System.Collections.Frozen;
using System.Collections.Generic;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Linq;
using System.Text;

namespace TokenMetrics.Internal;

/// <summary>Validation, normalisation, comparison and description of <see cref="TokenMetricsSettings"/> snapshots: one home for
/// the rules that configuration, runtime updates and the recorder's start-up snapshot all follow.</summary>
internal static class TokenMetricsSettingsRules
{
    /// <summary>The fields of a snapshot, for per-field precedence (a runtime update overrides only the fields it changed).</summary>
    [Flags]
    internal enum Field
    {
        None = 0,
        Enabled = 1,
        EstimateMissingUsage = 2,
        CaptureContent = 4,
        SamplingRatio = 8,
        DisabledExporters = 16,
        PriceOverrides = 32,
        Budgets = 64,
    }

    /// <summary>Builds the snapshot configured in <paramref name="options"/>; throws when it is invalid (start-up).</summary>
    /// <exception cref="ValidationException">An unknown exporter name, or a sampling ratio out of range.</exception>
    public static TokenMetricsSettings FromOptions(TokenMetricsOptions options, IReadOnlyList<string> exporterNames)
    {
        var errors = new List<string>();
        var settings = Normalize(FromOptionsUnchecked(options), exporterNames, errors);
        return errors.Count == 0 ? settings : throw new ValidationException("Invalid TokenMetricsOptions: " + string.Join("; ", errors));
    }

    /// <summary>The snapshot of the runtime fields of <paramref name="options"/>, not yet validated. Price overrides are not
    /// configured here (the pricing options have their own): configuration gives none.</summary>
    public static TokenMetricsSettings FromOptionsUnchecked(TokenMetricsOptions options) => new()
    {
        Enabled = options.Enabled,
        EstimateMissingUsage = options.EstimateMissingUsage,
        CaptureContent = options.CaptureContent,
        SamplingRatio = options.SamplingRatio,
        DisabledExporters = options.DisabledExporters.Count == 0 ? null : options.DisabledExporters.ToHashSet(StringComparer.Ordinal),
        Budgets = options.Budgets is { Count: > 0 } budgets ? budgets.ToArray() : null,
    };

    /// <summary>Checks every field and returns a snapshot with its own immutable collections (exporter names spelled as the
    /// pipeline names them, empty collections as <see langword="null"/>); adds to <paramref name="errors"/> what is wrong.</summary>
    public static TokenMetricsSettings Normalize(TokenMetricsSettings settings, IReadOnlyList<string> exporterNames, List<string> errors)
    {
        if (!(settings.SamplingRatio is >= 0.0 and <= 1.0))
        {
            errors.Add($"SamplingRatio must be between 0 and 1 (was {settings.SamplingRatio.ToString(CultureInfo.InvariantCulture)})");
        }

        return settings with
        {
            DisabledExporters = NormalizeExporters(settings.DisabledExporters, exporterNames, errors),
            PriceOverrides = NormalizePrices(settings.PriceOverrides, errors),
            Budgets = NormalizeBudgets(settings.Budgets, errors),
        };
    }

    /// <summary>The fields whose values differ between two snapshots.</summary>
    public static Field Diff(TokenMetricsSettings a, TokenMetricsSettings b)
    {
        var changed = Field.None;
        if (a.Enabled != b.Enabled)
        {
            changed |= Field.Enabled;
        }

        if (a.EstimateMissingUsage != b.EstimateMissingUsage)
        {
            changed |= Field.EstimateMissingUsage;
        }

        if (a.CaptureContent != b.CaptureContent)
        {
            changed |= Field.CaptureContent;
        }

        if (!a.SamplingRatio.Equals(b.SamplingRatio))
        {
            changed |= Field.SamplingRatio;
        }

        if (!SetEquals(a.DisabledExporters, b.DisabledExporters))
        {
            changed |= Field.DisabledExporters;
        }

        if (!PricesEqual(a.PriceOverrides, b.PriceOverrides))
        {
            changed |= Field.PriceOverrides;
        }

        if (!BudgetsEqual(a.Budgets, b.Budgets))
        {
            changed |= Field.Budgets;
        }

        return changed;
    }

    /// <summary>The configured snapshot with the overridden fields taken from the runtime snapshot.</summary>
    public static TokenMetricsSettings Compose(TokenMetricsSettings configured, TokenMetricsSettings runtime, Field overridden) => overridden == Field.None
        ? configured
        : new TokenMetricsSettings
        {
            Enabled = (overridden & Field.Enabled) != 0 ? runtime.Enabled : configured.Enabled,
            EstimateMissingUsage = (overridden & Field.EstimateMissingUsage) != 0 ? runtime.EstimateMissingUsage : configured.EstimateMissingUsage,
            CaptureContent = (overridden & Field.CaptureContent) != 0 ? runtime.CaptureContent : configured.CaptureContent,
            SamplingRatio = (overridden & Field.SamplingRatio) != 0 ? runtime.SamplingRatio : configured.SamplingRatio,
            DisabledExporters = (overridden & Field.DisabledExporters) != 0 ? runtime.DisabledExporters : configured.DisabledExporters,
            PriceOverrides = (overridden & Field.PriceOverrides) != 0 ? runtime.PriceOverrides : configured.PriceOverrides,
            Budgets = (overridden & Field.Budgets) != 0 ? runtime.Budgets : configured.Budgets,
        };

    /// <summary>Says what changed, old -&gt; new, for the log (prices are not secrets; nothing else here is sensitive).</summary>
    public static string Describe(TokenMetricsSettings before, TokenMetricsSettings after, Field changed)
    {
        var parts = new List<string>();
        if ((changed & Field.Enabled) != 0)
        {
            parts.Add($"Enabled: {before.Enabled} -> {after.Enabled}");
        }

        if ((changed & Field.EstimateMissingUsage) != 0)
        {
            parts.Add($"EstimateMissingUsage: {before.EstimateMissingUsage} -> {after.EstimateMissingUsage}");
        }

        if ((changed & Field.CaptureContent) != 0)
        {
            parts.Add($"CaptureContent: {before.CaptureContent} -> {after.CaptureContent}");
        }

        if ((changed & Field.SamplingRatio) != 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"SamplingRatio: {before.SamplingRatio} -> {after.SamplingRatio}"));
        }

        if ((changed & Field.DisabledExporters) != 0)
        {
            parts.Add($"DisabledExporters: {List(before.DisabledExporters)} -> {List(after.DisabledExporters)}");
        }

        if ((changed & Field.PriceOverrides) != 0)
        {
            parts.Add("PriceOverrides: " + DescribePrices(before.PriceOverrides, after.PriceOverrides));
        }

        if ((changed & Field.Budgets) != 0)
        {
            parts.Add($"Budgets: {DescribeBudgets(before.Budgets)} -> {DescribeBudgets(after.Budgets)}");
        }

        return parts.Count == 0 ? "no change" : string.Join("; ", parts);
    }

    /// <summary>Keeps a caller's reason fit for one log line: no control characters (no forged lines), at most 200 characters.</summary>
    public static string? SanitizeReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return null;
        }

        var text = reason.Length > 200 ? reason[..200] + "…" : reason;
        return string.Create(text.Length, text, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? ' ' : s[i];
            }
        });
    }

    private static FrozenSet<string>? NormalizeExporters(IReadOnlySet<string>? names, IReadOnlyList<string> exporterNames, List<string> errors)
    {
        if (names is null || names.Count == 0)
        {
            return null;
        }

        var canonical = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var match = name is null ? null : exporterNames.FirstOrDefault(n => string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                errors.Add($"DisabledExporters: unknown exporter '{name}' (known: {(exporterNames.Count == 0 ? "none" : string.Join(", ", exporterNames))})");
            }
            else
            {
                _ = canonical.Add(match);
            }
        }

        return canonical.ToFrozenSet(StringComparer.Ordinal);
    }

    private static FrozenDictionary<string, TokenUsagePrice>? NormalizePrices(IReadOnlyDictionary<string, TokenUsagePrice>? prices, List<string> errors)
    {
        if (prices is null || prices.Count == 0)
        {
            return null;
        }

        var copy = new Dictionary<string, TokenUsagePrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in prices)
        {
            if (string.IsNullOrWhiteSpace(model))
            {
                errors.Add("PriceOverrides: a model name is empty");
                continue;
            }

            if (price is null)
            {
                errors.Add($"PriceOverrides['{model}']: the price is missing");
                continue;
            }

            // decimal has no NaN or infinity, so "finite" holds by type; negative prices are the error to catch.
            CheckPrice(errors, model, nameof(TokenUsagePrice.Input), price.Input);
            CheckPrice(errors, model, nameof(TokenUsagePrice.CachedInput), price.CachedInput);
            CheckPrice(errors, model, nameof(TokenUsagePrice.CacheWrite), price.CacheWrite);
            CheckPrice(errors, model, nameof(TokenUsagePrice.CacheWrite1h), price.CacheWrite1h);
            CheckPrice(errors, model, nameof(TokenUsagePrice.Output), price.Output);
            CheckPrice(errors, model, nameof(TokenUsagePrice.Reasoning), price.Reasoning);
            if (price is { Input: null, CachedInput: null, CacheWrite: null, CacheWrite1h: null, Output: null, Reasoning: null })
            {
                errors.Add($"PriceOverrides['{model}']: sets no price at all");
            }

            if (price.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
            {
                errors.Add($"PriceOverrides['{model}'].Currency must be an ISO 4217 code such as USD (was '{price.Currency}')");
            }

            if (!copy.TryAdd(model.Trim(), price))
            {
                errors.Add($"PriceOverrides: '{model}' is given twice (names compare ignoring case)");
            }
        }

        return copy.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Checks each budget; the snapshot holds its own copies (the budgets are settable for configuration binding).</summary>
    private static TokenUsageBudget[]? NormalizeBudgets(IReadOnlyList<TokenUsageBudget>? budgets, List<string> errors)
    {
        if (budgets is null || budgets.Count == 0)
        {
            return null;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var budget in budgets)
        {
            if (budget is null)
            {
                errors.Add("Budgets: a budget is missing");
                continue;
            }

            var name = budget.Name;
            if (string.IsNullOrWhiteSpace(name) || name.Contains(':', StringComparison.Ordinal) || name.Any(char.IsControl))
            {
                errors.Add($"Budgets: the name '{name}' must be non-empty, without ':' or control characters");
            }
            else if (!names.Add(name))
            {
                errors.Add($"Budgets: '{name}' is given twice");
            }

            if (!Enum.IsDefined(budget.Subject))
            {
                errors.Add($"Budgets['{name}'].Subject is not a known subject");
            }

            if (budget.Subject == TokenUsageBudgetSubject.Tag && string.IsNullOrWhiteSpace(budget.TagName))
            {
                errors.Add($"Budgets['{name}']: a Tag budget needs TagName");
            }

            if (!Enum.IsDefined(budget.Rejection))
            {
                errors.Add($"Budgets['{name}'].Rejection is not a known behaviour");
            }

            if (budget is { TokensPerMinute: null, TokensPerHour: null, TokensPerDay: null, CostPerDay: null, CostPerMonth: null })
            {
                errors.Add($"Budgets['{name}']: sets no limit");
            }

            foreach (var (field, value) in (ReadOnlySpan<(string, decimal?)>)[
                (nameof(TokenUsageBudget.TokensPerMinute), budget.TokensPerMinute), (nameof(TokenUsageBudget.TokensPerHour), budget.TokensPerHour),
                (nameof(TokenUsageBudget.TokensPerDay), budget.TokensPerDay), (nameof(TokenUsageBudget.CostPerDay), budget.CostPerDay),
                (nameof(TokenUsageBudget.CostPerMonth), budget.CostPerMonth)])
            {
                if (value is <= 0 or > 1_000_000_000_000m)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"Budgets['{name}'].{field} must be above 0 and at most 10^12 (was {value})"));
                }
            }
        }

        return budgets.Select(b => b is null ? b! : b with { }).ToArray();
    }

    private static bool BudgetsEqual(IReadOnlyList<TokenUsageBudget>? a, IReadOnlyList<TokenUsageBudget>? b) =>
        (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.SequenceEqual(b);

    private static string DescribeBudgets(IReadOnlyList<TokenUsageBudget>? budgets) =>
        budgets is null || budgets.Count == 0 ? "[]" : "[" + string.Join(", ", budgets.Select(b => string.Create(CultureInfo.InvariantCulture,
            $"{b.Name} {b.Subject} tpm={b.TokensPerMinute} tph={b.TokensPerHour} tpd={b.TokensPerDay} cpd={b.CostPerDay} cpm={b.CostPerMonth}"))) + "]";

    private static void CheckPrice(List<string> errors, string model, string field, decimal? value)
    {
        if (value < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"PriceOverrides['{model}'].{field} must not be negative (was {value})"));
        }
    }

    private static bool SetEquals(IReadOnlySet<string>? a, IReadOnlySet<string>? b) =>
        (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.Count == b.Count && a.SetEquals(b);

    private static bool PricesEqual(IReadOnlyDictionary<string, TokenUsagePrice>? a, IReadOnlyDictionary<string, TokenUsagePrice>? b)
    {
        if (a is null || a.Count == 0)
        {
            return b is null || b.Count == 0;
        }

        if (b is null || a.Count != b.Count)
        {
            return false;
        }

        foreach (var (model, price) in a)
        {
            if (!b.TryGetValue(model, out var other) || !Equals(price, other))
            {
                return false;
            }
        }

        return true;
    }

    private static string List(IReadOnlySet<string>? names) =>
        names is null || names.Count == 0 ? "[]" : "[" + string.Join(", ", names.Order(StringComparer.Ordinal)) + "]";

    private static string DescribePrices(IReadOnlyDictionary<string, TokenUsagePrice>? before, IReadOnlyDictionary<string, TokenUsagePrice>? after)
    {
        before ??= FrozenDictionary<string, TokenUsagePrice>.Empty;
        after ??= FrozenDictionary<string, TokenUsagePrice>.Empty;
        var parts = new List<string>();
        foreach (var model in before.Keys.Concat(after.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase))
        {
            var had = before.TryGetValue(model, out var old);
            var has = after.TryGetValue(model, out var now);
            if (had && has && !Equals(old, now))
            {
                parts.Add($"{model} {Price(old!)} -> {Price(now!)}");
            }
            else if (had && !has)
            {
                parts.Add($"{model} {Price(old!)} -> removed");
            }
            else if (!had && has)
            {
                parts.Add($"{model} added {Price(now!)}");
            }
        }

        return parts.Count == 0 ? "no change" : string.Join(", ", parts);
    }

    private static string Price(TokenUsagePrice p)
    {
        var text = new StringBuilder("{");
        Append(text, "in", p.Input);
        Append(text, "cached", p.CachedInput);
        Append(text, "write", p.CacheWrite);
        Append(text, "write1h", p.CacheWrite1h);
        Append(text, "out", p.Output);
        Append(text, "reasoning", p.Reasoning);
        return text.Append(' ').Append(p.Currency).Append("/1M}").ToString();
    }

    private static void Append(StringBuilder text, string name, decimal? value)
    {
        if (value is { } v)
        {
            _ = text.Append(text.Length > 1 ? ", " : string.Empty).Append(name).Append(' ').Append(v.ToString(CultureInfo.InvariantCulture));
        }
    }
}

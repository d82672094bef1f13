using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>One entry of a price catalog: a model (family), its vendor, its prices, and where and when they were taken.</summary>
public sealed record TokenUsagePriceEntry
{
    /// <summary>Gets the catalog key (for example <c>gpt-4o</c>); it becomes <see cref="TokenUsageRecord.PricedModel"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the provider the prices are for, as a <c>gen_ai.provider.name</c> value (<c>openai</c>,
    /// <c>aws.bedrock</c>...); <see langword="null"/> for a user price that applies whatever the provider.</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the prices.</summary>
    public required TokenUsagePrice Price { get; init; }

    /// <summary>Gets other exact names of the model (dated snapshots, vendor aliases).</summary>
    public IReadOnlyList<string>? Aliases { get; init; }

    /// <summary>Gets name prefixes that belong to this model (for example <c>claude-sonnet-4.5</c>).</summary>
    public IReadOnlyList<string>? Prefixes { get; init; }

    /// <summary>Gets the page the prices come from.</summary>
    public string? Source { get; init; }

    /// <summary>Gets the day the prices were taken from <see cref="Source"/>.</summary>
    public DateOnly? Date { get; init; }
}

/// <summary>How a model name found its catalog entry.</summary>
public enum TokenUsagePriceMatchKind
{
    /// <summary>The name is the entry's key.</summary>
    Exact,

    /// <summary>The name is one of the entry's aliases, or a configured alias of its key.</summary>
    Alias,

    /// <summary>The name is a dated snapshot or version of the entry (<c>gpt-4o-2024-08-06</c>, <c>claude-sonnet-4-5-20250929</c>,
    /// <c>...-v1:0</c>, <c>@20240620</c>).</summary>
    Snapshot,

    /// <summary>The entry is the longest catalog name the model name starts with.</summary>
    Prefix,

    /// <summary>The name is a configured deployment (Azure OpenAI) mapped to the entry's model.</summary>
    Deployment,
}

/// <summary>The catalog entry a model name resolved to, and how.</summary>
/// <param name="Entry">The entry.</param>
/// <param name="Kind">How the name matched.</param>
/// <param name="Model">The name that was resolved.</param>
public sealed record TokenUsagePriceMatch(TokenUsagePriceEntry Entry, TokenUsagePriceMatchKind Kind, string Model);

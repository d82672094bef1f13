namespace TokenMetrics;

/// <summary>Where the counts of a <see cref="TokenUsageRecord"/> came from.</summary>
public enum TokenUsageSource
{
    /// <summary>No usage is known: the vendor reported none and estimation was off or impossible. Counts are <see langword="null"/>, never zero.</summary>
    Missing = 0,

    /// <summary>The vendor reported the counts (billable figures).</summary>
    Reported = 1,

    /// <summary>TokenMetrics counted the tokens itself because the vendor reported none (stream cancelled or cut, vendor silent).</summary>
    Estimated = 2,
}

namespace TokenMetrics;

/// <summary>Which TokenMetrics layer produced a record.</summary>
public enum TokenUsageLayer
{
    /// <summary>The <see cref="TokenMetricsHandler"/>, which saw the HTTP exchange.</summary>
    Http = 0,

    /// <summary>The <see cref="TokenMetricsChatClient"/>, which saw the <c>IChatClient</c> call.</summary>
    ChatClient = 1,

    /// <summary>Recorded by application code through <see cref="TokenUsageRecorder.Record(TokenUsageRecord)"/>.</summary>
    Manual = 2,
}

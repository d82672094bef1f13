using System.Collections.Generic;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Options of <see cref="WebhookTokenUsageExporter"/>; validated at start-up.</summary>
public sealed class WebhookExporterOptions
{
    /// <summary>Gets or sets the receiver's URL.</summary>
    /// <value>Required. HTTPS, or plain HTTP to a loopback address only; no credentials in the URL.</value>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets the shared secret for the HMAC-SHA256 signature. Never logged.</summary>
    /// <value>Required, at least 16 characters.</value>
    public string? Secret { get; set; }

    /// <summary>Gets or sets the most records per request; bigger batches are split.</summary>
    /// <value>Defaults to 512. From 1 to 10,000.</value>
    public int MaxRecordsPerRequest { get; set; } = 512;

    /// <summary>Gets or sets a value indicating whether captured conversation content (<see cref="TokenUsageRecord.Content"/>) is
    /// sent to the receiver. Content capture itself is off by default; even when it is on, the webhook leaves content out unless
    /// this is set, because a webhook receiver is usually not the store the content was meant for.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool IncludeContent { get; set; }

    internal List<string> Validate()
    {
        var errors = new List<string>();
        ExporterOptions.ValidateEndpoint("WebhookExporterOptions.Endpoint", Endpoint, errors);
        if (string.IsNullOrEmpty(Secret) || Secret.Length < 16)
        {
            errors.Add("WebhookExporterOptions.Secret is required and must be at least 16 characters.");
        }

        if (MaxRecordsPerRequest is < 1 or > 10_000)
        {
            errors.Add("WebhookExporterOptions.MaxRecordsPerRequest must be between 1 and 10000.");
        }

        return errors;
    }
}

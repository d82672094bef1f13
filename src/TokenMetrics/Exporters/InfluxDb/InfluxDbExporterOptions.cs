using System.Collections.Generic;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Which InfluxDB write API to use.</summary>
public enum InfluxDbApiVersion
{
    /// <summary>InfluxDB 1.x: <c>POST /write?db=&amp;rp=&amp;precision=</c> with HTTP basic authentication.</summary>
    V1 = 1,

    /// <summary>InfluxDB 2.x, 3.x and Cloud (and 1.8+ compatibility): <c>POST /api/v2/write?org=&amp;bucket=&amp;precision=</c> with <c>Authorization: Token ...</c>.</summary>
    V2 = 2,
}

/// <summary>The timestamp precision of the written points.</summary>
public enum InfluxDbPrecision
{
    /// <summary>Nanoseconds.</summary>
    Nanoseconds = 0,

    /// <summary>Microseconds.</summary>
    Microseconds = 1,

    /// <summary>Milliseconds.</summary>
    Milliseconds = 2,

    /// <summary>Seconds.</summary>
    Seconds = 3,
}

/// <summary>Options of <see cref="InfluxDbTokenUsageExporter"/>; validated at start-up.</summary>
public sealed class InfluxDbExporterOptions
{
    /// <summary>Gets or sets the server's base address, for example <c>https://influx.example.com:8086/</c>.</summary>
    /// <value>Required. HTTPS, or plain HTTP to a loopback address only; no credentials in the URL.</value>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets the write API.</summary>
    /// <value>Defaults to <see cref="InfluxDbApiVersion.V2"/>.</value>
    public InfluxDbApiVersion ApiVersion { get; set; } = InfluxDbApiVersion.V2;

    /// <summary>Gets or sets the database (v1; required there).</summary>
    public string? Database { get; set; }

    /// <summary>Gets or sets the retention policy (v1; optional, the database default otherwise).</summary>
    public string? RetentionPolicy { get; set; }

    /// <summary>Gets or sets the user name for HTTP basic authentication (v1; optional, with <see cref="Password"/>).</summary>
    public string? Username { get; set; }

    /// <summary>Gets or sets the password for HTTP basic authentication (v1). Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Gets or sets the organization (v2; required there).</summary>
    public string? Organization { get; set; }

    /// <summary>Gets or sets the bucket (v2; required there).</summary>
    public string? Bucket { get; set; }

    /// <summary>Gets or sets the API token (v2; required there). Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>Gets or sets the measurement name.</summary>
    /// <value>Defaults to <c>tokenmetrics_usage</c>.</value>
    public string Measurement { get; set; } = "tokenmetrics_usage";

    /// <summary>Gets or sets the timestamp precision.</summary>
    /// <value>Defaults to <see cref="InfluxDbPrecision.Nanoseconds"/>, which also keeps two calls in the same 100 ns tick apart (see the exporter's remarks).</value>
    public InfluxDbPrecision Precision { get; set; } = InfluxDbPrecision.Nanoseconds;

    /// <summary>Gets or sets a value indicating whether <c>consumer</c> is written as a tag.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool IncludeConsumer { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether request bodies are gzip-compressed.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool UseGzip { get; set; }

    /// <summary>Gets or sets the most points per HTTP request; bigger batches are split.</summary>
    /// <value>Defaults to 5000 (InfluxData's advice). From 1 to 100,000.</value>
    public int MaxPointsPerRequest { get; set; } = 5000;

    internal List<string> Validate()
    {
        var errors = new List<string>();
        ExporterOptions.ValidateEndpoint("InfluxDbExporterOptions.Endpoint", Endpoint, errors);
        if (string.IsNullOrWhiteSpace(Measurement) || Measurement.AsSpan().ContainsAny('\r', '\n'))
        {
            errors.Add("InfluxDbExporterOptions.Measurement must be non-empty and on one line.");
        }

        if (MaxPointsPerRequest is < 1 or > 100_000)
        {
            errors.Add("InfluxDbExporterOptions.MaxPointsPerRequest must be between 1 and 100000.");
        }

        if (!Enum.IsDefined(Precision))
        {
            errors.Add("InfluxDbExporterOptions.Precision is not a known value.");
        }

        switch (ApiVersion)
        {
            case InfluxDbApiVersion.V1:
                if (string.IsNullOrWhiteSpace(Database))
                {
                    errors.Add("InfluxDbExporterOptions.Database is required with ApiVersion V1.");
                }

                if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
                {
                    errors.Add("InfluxDbExporterOptions.Username and Password must be set together (V1 basic authentication).");
                }

                break;
            case InfluxDbApiVersion.V2:
                if (string.IsNullOrWhiteSpace(Organization) || string.IsNullOrWhiteSpace(Bucket))
                {
                    errors.Add("InfluxDbExporterOptions.Organization and Bucket are required with ApiVersion V2.");
                }

                if (string.IsNullOrWhiteSpace(Token))
                {
                    errors.Add("InfluxDbExporterOptions.Token is required with ApiVersion V2.");
                }

                break;
            default:
                errors.Add("InfluxDbExporterOptions.ApiVersion must be V1 or V2.");
                break;
        }

        return errors;
    }
}

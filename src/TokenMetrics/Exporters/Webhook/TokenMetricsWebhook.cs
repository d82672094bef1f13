using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TokenMetrics;

/// <summary>Signs and verifies TokenMetrics webhook requests.</summary>
/// <remarks>
/// <para>Each request carries <c>X-TokenMetrics-Timestamp</c> (Unix seconds) and <c>X-TokenMetrics-Signature: v1=&lt;hex&gt;</c>,
/// where hex is the lower-case HMAC-SHA256, keyed with the UTF-8 secret, of the UTF-8 timestamp, a <c>.</c>, and the raw body bytes.
/// Receivers verify over the raw body (before any JSON parsing), compare in constant time and reject old timestamps (replays).
/// Several <c>v1=</c> entries separated by commas are accepted, for secret rotation.</para>
/// </remarks>
public static class TokenMetricsWebhook
{
    /// <summary>The timestamp header.</summary>
    public const string TimestampHeader = "X-TokenMetrics-Timestamp";

    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-TokenMetrics-Signature";

    /// <summary>The default tolerance between the timestamp and the receiver's clock.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>Computes the signature header value (<c>v1=&lt;hex&gt;</c>).</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="timestamp">The timestamp header value.</param>
    /// <param name="body">The raw body.</param>
    /// <returns>The header value.</returns>
    public static string ComputeSignature(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(timestamp);
        Span<byte> mac = stackalloc byte[32];
        Mac(secret, timestamp, body, mac);
        return "v1=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>Verifies a request against the current time of <see cref="TimeProvider.System"/>.</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="timestampHeader">The <c>X-TokenMetrics-Timestamp</c> value.</param>
    /// <param name="signatureHeader">The <c>X-TokenMetrics-Signature</c> value.</param>
    /// <param name="body">The raw body bytes.</param>
    /// <param name="tolerance">The largest accepted clock difference; <see cref="DefaultTolerance"/> when <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when a signature matches and the timestamp is within the tolerance.</returns>
    public static bool Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, TimeSpan? tolerance = null) =>
        Verify(secret, timestampHeader, signatureHeader, body, TimeProvider.System.GetUtcNow(), tolerance);

    /// <summary>Verifies a request.</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="timestampHeader">The <c>X-TokenMetrics-Timestamp</c> value.</param>
    /// <param name="signatureHeader">The <c>X-TokenMetrics-Signature</c> value.</param>
    /// <param name="body">The raw body bytes.</param>
    /// <param name="now">The receiver's current time.</param>
    /// <param name="tolerance">The largest accepted clock difference; <see cref="DefaultTolerance"/> when <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when a signature matches and the timestamp is within the tolerance.</returns>
    public static bool Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (string.IsNullOrEmpty(timestampHeader) || string.IsNullOrEmpty(signatureHeader) ||
            !long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        var age = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if (age.Duration() > (tolerance ?? DefaultTolerance))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        Mac(secret, timestampHeader, body, expected);
        Span<byte> given = stackalloc byte[32];
        var ok = false;
        foreach (var part in signatureHeader.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("v1=", StringComparison.Ordinal) && part.Length == 3 + 64 &&
                Convert.FromHexString(part.AsSpan(3), given, out _, out var written) == OperationStatus.Done && written == 32)
            {
                ok |= CryptographicOperations.FixedTimeEquals(expected, given);
            }
        }

        return ok;
    }

    private static void Mac(string secret, string timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.UTF8.GetBytes(timestamp));
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        _ = hmac.GetHashAndReset(destination);
    }
}

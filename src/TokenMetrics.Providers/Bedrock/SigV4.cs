using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>AWS Signature Version 4 (header-based), with <see cref="HMACSHA256"/> and <see cref="SHA256"/>.</summary>
/// <remarks>Canonical request: method, canonical URI (each path segment URI-encoded again, as every AWS service but S3 expects),
/// canonical query (encoded, sorted by name then value), lower-cased headers sorted with trimmed values, signed header list,
/// hex SHA-256 of the payload. String to sign: <c>AWS4-HMAC-SHA256</c>, the time, the scope, the hex SHA-256 of the canonical
/// request. Key: HMAC chain over date, region, service, <c>aws4_request</c> from <c>"AWS4" + secret</c>.</remarks>
internal static class SigV4
{
    /// <summary>Signs a request; returns the <c>Authorization</c> value (the caller adds <c>x-amz-date</c> and, if any, <c>x-amz-security-token</c> itself).</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="uri">The request URI (its host is signed as <c>host</c> unless <paramref name="headers"/> has one).</param>
    /// <param name="headers">The headers to sign besides <c>host</c>, <c>x-amz-date</c> and <c>x-amz-security-token</c>.</param>
    /// <param name="payload">The body.</param>
    /// <param name="accessKeyId">The access key id.</param>
    /// <param name="secretAccessKey">The secret key (never recorded).</param>
    /// <param name="sessionToken">The session token of temporary credentials, or <see langword="null"/>.</param>
    /// <param name="region">The region.</param>
    /// <param name="service">The signing name (<c>bedrock</c>).</param>
    /// <param name="time">The signing time.</param>
    public static string Authorization(
        string method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> payload,
        string accessKeyId, string secretAccessKey, string? sessionToken, string region, string service, DateTimeOffset time)
    {
        var amzDate = AmzDate(time);
        var date = amzDate[..8];
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            var key = name.ToLowerInvariant();
            var trimmed = CollapseSpaces(value.Trim());
            all[key] = all.TryGetValue(key, out var existing) ? existing + "," + trimmed : trimmed;
        }

        if (!all.ContainsKey("host"))
        {
            all["host"] = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        }

        all["x-amz-date"] = amzDate;
        if (!string.IsNullOrEmpty(sessionToken))
        {
            all["x-amz-security-token"] = sessionToken;
        }

        var signedHeaders = string.Join(';', all.Keys);
        var canonical = new StringBuilder()
            .Append(method.ToUpperInvariant()).Append('\n')
            .Append(CanonicalUri(uri.AbsolutePath)).Append('\n')
            .Append(CanonicalQuery(uri.Query)).Append('\n');
        foreach (var (name, value) in all)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(Hex(SHA256.HashData(payload)));
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        var key2 = SigningKey(secretAccessKey, date, region, service);
        var signature = Hex(HMACSHA256.HashData(key2, Encoding.UTF8.GetBytes(stringToSign)));
        return $"AWS4-HMAC-SHA256 Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary><c>yyyyMMddTHHmmssZ</c> in UTC.</summary>
    public static string AmzDate(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static byte[] SigningKey(string secretAccessKey, string date, string region, string service)
    {
        var kDate = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), Encoding.UTF8.GetBytes(date));
        var kRegion = HMACSHA256.HashData(kDate, Encoding.UTF8.GetBytes(region));
        var kService = HMACSHA256.HashData(kRegion, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(kService, "aws4_request"u8);
    }

    /// <summary>Each segment of the (already percent-encoded) path encoded once more; empty path is <c>/</c>.</summary>
    internal static string CanonicalUri(string absolutePath)
    {
        if (string.IsNullOrEmpty(absolutePath))
        {
            return "/";
        }

        return string.Join('/', absolutePath.Split('/').Select(Encode));
    }

    internal static string CanonicalQuery(string query)
    {
        if (string.IsNullOrEmpty(query) || query == "?")
        {
            return string.Empty;
        }

        var pairs = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p =>
            {
                var eq = p.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? p : p[..eq];
                var value = eq < 0 ? string.Empty : p[(eq + 1)..];
                return (Name: Encode(Uri.UnescapeDataString(name)), Value: Encode(Uri.UnescapeDataString(value)));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>RFC 3986 encoding: unreserved characters kept, everything else <c>%XX</c> (upper-case hex) per UTF-8 byte.</summary>
    internal static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value)
        {
            if (c == ' ')
            {
                if (!space)
                {
                    sb.Append(c);
                }

                space = true;
            }
            else
            {
                sb.Append(c);
                space = false;
            }
        }

        return sb.ToString();
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}

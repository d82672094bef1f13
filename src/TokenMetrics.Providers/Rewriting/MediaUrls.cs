namespace TokenMetrics.Providers.Rewriting;

/// <summary>Helpers for OpenAI image parts.</summary>
internal static class MediaUrls
{
    /// <summary>Splits <c>data:{mime};base64,{data}</c>; <see langword="false"/> for anything else (http URLs...).</summary>
    public static bool TryParseDataUrl(string? url, out string mimeType, out string base64)
    {
        mimeType = string.Empty;
        base64 = string.Empty;
        if (url is null || !url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return false;
        }

        // RFC 2397: ";base64" ends the metadata.
        var header = url.AsSpan(5, comma - 5);
        if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        mimeType = header[..^7].ToString();
        base64 = url[(comma + 1)..];
        return mimeType.Length > 0;
    }
}

using System.IO;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>One HTTP attempt for the HTTP exporters, and the mapping of its outcome to <see cref="TokenUsageExportException"/>.</summary>
internal static class HttpExport
{
    private const int MaxErrorBytes = 1024;
    private const int MaxErrorChars = 256;

    /// <summary>Sends once; returns on 2xx, otherwise throws <see cref="TokenUsageExportException"/> (transient for 408, 429 and 5xx
    /// and for transport errors, honouring <c>Retry-After</c>; permanent otherwise). Messages never contain request headers or URLs with credentials.</summary>
    public static async Task SendAsync(HttpClient client, HttpRequestMessage request, string target, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw new TokenUsageExportException($"{target}: the request timed out.", isTransient: true, innerException: ex);
        }
        catch (HttpRequestException ex)
        {
            throw new TokenUsageExportException($"{target}: {ex.HttpRequestError} ({ex.Message})", isTransient: true, innerException: ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var status = (int)response.StatusCode;
            var transient = status is 408 or 429 || status >= 500;
            var retryAfter = transient ? GetRetryAfter(response, timeProvider) : null;
            var snippet = await ReadSnippetAsync(response, cancellationToken).ConfigureAwait(false);
            throw new TokenUsageExportException(
                $"{target}: HTTP {status} {response.ReasonPhrase}{(snippet.Length > 0 ? ": " + snippet : string.Empty)}",
                transient,
                retryAfter);
        }
    }

    public static TimeSpan? GetRetryAfter(HttpResponseMessage response, TimeProvider timeProvider)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - timeProvider.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxErrorBytes];
                var total = 0;
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }

                // Provider text is untrusted: no control characters (log injection), bounded length.
                var text = Encoding.UTF8.GetString(buffer, 0, total);
                var clean = new StringBuilder(Math.Min(text.Length, MaxErrorChars));
                foreach (var c in text)
                {
                    if (clean.Length == MaxErrorChars)
                    {
                        break;
                    }

                    clean.Append(char.IsControl(c) ? ' ' : c);
                }

                return clean.ToString().Trim();
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return string.Empty;
        }
    }
}

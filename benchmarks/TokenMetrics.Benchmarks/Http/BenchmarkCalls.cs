namespace TokenMetrics.Benchmarks.Http;

/// <summary>The call every HTTP benchmark makes, as an SDK does: POST a JSON body, read the response stream to its end.</summary>
internal static class BenchmarkCalls
{
    /// <summary>Posts <paramref name="body"/> to <paramref name="url"/> and reads the whole answer through its stream.</summary>
    /// <returns>The bytes read.</returns>
    public static async Task<long> PostAndReadAsync(HttpClient client, string url, byte[] body, byte[] readBuffer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(readBuffer)) > 0)
        {
            total += n;
        }

        return total;
    }
}

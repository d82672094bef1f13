// Consumer check for the packed packages: one metered HttpClient call and one metered IChatClient call against the mock
// LLM server from TokenMetrics.Testing, then both records read back from the SQLite store. Exit code 0 only when they are.
using System.ClientModel;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenAI;
using TokenMetrics;
using TokenMetrics.Testing;

var databasePath = Path.Combine(Path.GetTempPath(), $"tokenmetrics-consumer-{Guid.NewGuid():N}.db");
try
{
    await using var server = await MockLlmServer.StartAsync();

    var builder = Host.CreateApplicationBuilder(args);
    TokenMetricsWiring.AddTokenMetrics(builder.Services, databasePath);
    TokenMetricsWiring.AddMeteredHttpClient(builder.Services, "llm", new Uri(server.BaseAddress, "v1/"));
    using var host = builder.Build();
    await host.StartAsync();

    // 1. Raw HTTP through the metered HttpClient (TokenMetricsHandler).
    using (var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm"))
    {
        const string body = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}""";
        using var response = await http.PostAsync("chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        _ = await response.Content.ReadAsStringAsync();
    }

    // 2. An IChatClient (OpenAI's, over its own unmetered transport) decorated with TokenMetrics.
    IChatClient inner = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") })
        .GetChatClient("gpt-4o-mini")
        .AsIChatClient();
    using (var chat = TokenMetricsWiring.UseTokenMetrics(inner, host.Services))
    {
        var answer = await chat.GetResponseAsync("Say hello");
        if (string.IsNullOrEmpty(answer.Text))
        {
            throw new InvalidOperationException("the chat client returned no text");
        }
    }

    await host.StopAsync(); // flushes the pipeline into the store

    var store = host.Services.GetRequiredService<ITokenUsageStore>();
    var page = await store.QueryAsync(new TokenUsageQuery(), CancellationToken.None);
    foreach (var r in page.Records)
    {
        Console.WriteLine($"consumer: record layer={r.Layer} provider={r.Provider} model={r.RequestModel} input={r.Usage.InputTokenCount} output={r.Usage.OutputTokenCount} source={r.Source} status={r.Status}");
    }

    var problems = new List<string>();
    if (page.Records.Count != 2)
    {
        problems.Add($"expected 2 records in the store, found {page.Records.Count}");
    }

    foreach (var layer in new[] { TokenUsageLayer.Http, TokenUsageLayer.ChatClient })
    {
        var record = page.Records.FirstOrDefault(r => r.Layer == layer);
        if (record is null)
        {
            problems.Add($"no {layer} record");
        }
        else if (record.Source != TokenUsageSource.Reported || !(record.Usage.InputTokenCount > 0) || !(record.Usage.OutputTokenCount > 0))
        {
            problems.Add($"{layer} record without the reported usage (source {record.Source}, input {record.Usage.InputTokenCount}, output {record.Usage.OutputTokenCount})");
        }
    }

    if (server.Requests.Count != 2)
    {
        problems.Add($"expected 2 requests at the mock server, saw {server.Requests.Count}");
    }

    foreach (var problem in problems)
    {
        Console.Error.WriteLine("consumer: FAIL: " + problem);
    }

    Console.WriteLine(problems.Count == 0 ? "consumer: ok" : "consumer: failed");
    return problems.Count == 0 ? 0 : 1;
}
finally
{
    foreach (var suffix in new[] { "", "-wal", "-shm" })
    {
        try
        {
            File.Delete(databasePath + suffix);
        }
        catch (IOException)
        {
        }
    }
}

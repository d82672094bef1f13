using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Chat Completions, the Responses API, legacy Completions and Embeddings, on OpenAI, Azure OpenAI and compatible servers.</summary>
internal sealed class OpenAIProtocol(OpenAIProtocolOptions options) : ITokenUsageProtocol
{
    public string Name => "openai";

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        var target = EndpointCache.Get(uri)!;
        if (OpenAIEndpoint.Classify(target.Path) == OpenAIOperation.None)
        {
            return false;
        }

        var host = target.Host;
        return options.MatchAnyHost
            || host.Equals("api.openai.com", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase)
            || options.Hosts.Contains(host, StringComparer.OrdinalIgnoreCase);
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var uri = context.Request.RequestUri!;
        var target = EndpointCache.Get(uri)!;
        var operation = OpenAIEndpoint.Classify(target.Path);
        context.Operation = operation switch
        {
            OpenAIOperation.ChatCompletions or OpenAIOperation.Responses => "chat",
            OpenAIOperation.Completions => "text_completion",
            OpenAIOperation.Embeddings => "embeddings",
            _ => null,
        };
        context.ProtocolState = OpenAIEndpoint.Boxed(operation);
        context.Provider = target.Host.Equals("api.openai.com", StringComparison.OrdinalIgnoreCase) ? "openai"
            : target.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase) ? "azure.ai.openai"
            : CompatibleProvider(target);

        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is not { Length: > 0 } json)
        {
            return;
        }

        var info = OpenAIRequestInfo.Parse(json.Span);
        context.RequestModel = info.Model ?? OpenAIEndpoint.AzureDeployment(target.Path);
        context.IsStreaming = info.Stream;
        if (info.Stream && !info.IncludeUsage && context.Options.RequestStreamUsage
            && operation is OpenAIOperation.ChatCompletions or OpenAIOperation.Completions)
        {
            var rewritten = OpenAIRequestInfo.InjectIncludeUsage(json.Span);
            if (rewritten is not null)
            {
                context.ReplaceRequestBody(rewritten);
                context.StreamUsageInjected = true;
            }
        }
    }

    /// <summary>Names an OpenAI-compatible vendor by host and port, host, then parent domains; the last answer is cached,
    /// since a client calls the same host again and again.</summary>
    private string CompatibleProvider(EndpointCache.Entry uri)
    {
        var last = _lastName;
        if (last is not null && last.Port == uri.Port && string.Equals(last.Host, uri.Host, StringComparison.Ordinal))
        {
            return last.Name;
        }

        var names = options.ProviderNames;
        var host = uri.Host;
        string? name = null;
        if (names.Count > 0)
        {
            if (!names.TryGetValue(host + ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), out name))
            {
                for (var domain = host; name is null && domain.Length > 0;)
                {
                    if (names.TryGetValue(domain, out var found))
                    {
                        name = found;
                        break;
                    }

                    var dot = domain.IndexOf('.', StringComparison.Ordinal);
                    domain = dot < 0 ? string.Empty : domain[(dot + 1)..];
                }
            }
        }

        name ??= options.CompatibleProviderName;
        _lastName = new HostName(host, uri.Port, name);
        return name;
    }

    private HostName? _lastName;

    private sealed record HostName(string Host, int Port, string Name);

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var operation = context.ProtocolState is OpenAIOperation op ? op : OpenAIEndpoint.Classify(EndpointCache.Path(context.Request.RequestUri!));
        if (TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream"))
        {
            context.IsStreaming = true;
            return new OpenAIStreamReader(operation, context.Options.MaxSseEventBytes, context.StreamUsageInjected);
        }

        // JSON, or no content type at all: many compatible servers omit it.
        return TokenUsageProtocolContext.MediaTypeContains(response.Content.Headers, "json", whenAbsent: true)
            ? new OpenAIJsonReader(context.Options.MaxInspectedResponseBytes)
            : null;
    }
}

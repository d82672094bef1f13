using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Anthropic;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>The Amazon Bedrock runtime: <c>POST /model/{modelId}/converse</c>, <c>/converse-stream</c>, <c>/invoke</c> and
/// <c>/invoke-with-response-stream</c>. The model comes from the (URL-decoded) path.</summary>
internal sealed class BedrockProtocol(BedrockProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "aws.bedrock";

    public string Name => ProviderName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        if (BedrockEndpoint.Classify(uri.AbsolutePath) == BedrockOperation.None)
        {
            return false;
        }

        var host = uri.Host;
        return BedrockEndpoint.IsRuntimeHost(host) || options.Hosts.Any(h => host.Equals(h, StringComparison.OrdinalIgnoreCase));
    }

    public ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var path = context.Request.RequestUri!.AbsolutePath;
        var operation = BedrockEndpoint.Classify(path);
        context.ProtocolState = operation;
        context.Operation = "chat";
        context.RequestModel = BedrockEndpoint.ModelId(path);
        context.IsStreaming = operation is BedrockOperation.ConverseStream or BedrockOperation.InvokeStream;
        return ValueTask.CompletedTask;
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var operation = context.ProtocolState is BedrockOperation op ? op : BedrockEndpoint.Classify(context.Request.RequestUri!.AbsolutePath);
        var requestId = RequestId(response);
        var options = context.Options;
        var eventStream = TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "application/vnd.amazon.eventstream");
        return operation switch
        {
            BedrockOperation.ConverseStream when eventStream => new BedrockConverseStreamReader(requestId),
            BedrockOperation.InvokeStream when eventStream => new BedrockInvokeStreamReader(requestId),
            BedrockOperation.Converse or BedrockOperation.ConverseStream => new BedrockConverseJsonReader(options.MaxInspectedResponseBytes, requestId),
            BedrockOperation.Invoke or BedrockOperation.InvokeStream => new AnthropicJsonReader(options.MaxInspectedResponseBytes, HeaderUsage(response)),
            _ => null,
        };
    }

    internal static string? RequestId(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-amzn-RequestId", out var values) ? values.FirstOrDefault() : null;

    /// <summary>InvokeModel answers carry <c>X-Amzn-Bedrock-Input-Token-Count</c> and <c>-Output-Token-Count</c> for every model.</summary>
    private static TokenUsage? HeaderUsage(HttpResponseMessage response)
    {
        static long? Read(HttpResponseMessage r, string name) =>
            r.Headers.TryGetValues(name, out var v) && long.TryParse(v.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;

        var input = Read(response, "X-Amzn-Bedrock-Input-Token-Count");
        var output = Read(response, "X-Amzn-Bedrock-Output-Token-Count");
        return BedrockUsage.Create(input, output, null,
            Read(response, "X-Amzn-Bedrock-Cache-Read-Input-Token-Count"), Read(response, "X-Amzn-Bedrock-Cache-Write-Input-Token-Count"));
    }
}

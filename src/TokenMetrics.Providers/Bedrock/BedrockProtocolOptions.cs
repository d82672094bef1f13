using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Amazon Bedrock runtime protocol (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream).</summary>
public sealed class BedrockProtocolOptions
{
    /// <summary>Gets extra hosts treated as Bedrock runtime endpoints besides <c>bedrock-runtime[-fips].{region}.amazonaws.com[.cn]</c>
    /// (VPC endpoints, proxies, mocks).</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets the time source used to sign requests when rewriting to Bedrock (tests pin it).</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

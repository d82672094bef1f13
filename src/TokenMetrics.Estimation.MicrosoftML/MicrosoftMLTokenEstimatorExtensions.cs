using System;
using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.ML.Tokenizers;
using TokenMetrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="MicrosoftMLTokenEstimator"/> as TokenMetrics' estimator.</summary>
public static class MicrosoftMLTokenEstimatorExtensions
{
    /// <summary>Counts estimated usage with Microsoft.ML.Tokenizers instead of TokenMetrics' own tokenizer.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="tokenizers">Tokenizers by tiktoken encoding name; other encodings keep TokenMetrics' own tokenizer.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder UseMicrosoftMLTokenizers(this ITokenMetricsBuilder builder, IReadOnlyDictionary<string, Tokenizer> tokenizers)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var estimator = new MicrosoftMLTokenEstimator(tokenizers);
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenEstimator>(estimator));
        return builder;
    }
}

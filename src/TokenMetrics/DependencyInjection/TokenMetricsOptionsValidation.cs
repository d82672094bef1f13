using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace TokenMetrics.Internal;

/// <summary>Generated (reflection-free) validation of the attribute ranges on <see cref="TokenMetricsOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class TokenMetricsOptionsValidator : IValidateOptions<TokenMetricsOptions>
{
}

/// <summary>Generated validation of <see cref="TokenMetricsHandlerOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class TokenMetricsHandlerOptionsValidator : IValidateOptions<TokenMetricsHandlerOptions>
{
}

/// <summary>Rules that span properties of <see cref="TokenMetricsOptions"/>.</summary>
internal sealed class TokenMetricsOptionsCustomValidator : IValidateOptions<TokenMetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenMetricsOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        if (options.MaxExportBatchSize > options.MaxQueueSize)
        {
            builder.AddError($"must not exceed MaxQueueSize ({options.MaxQueueSize})", nameof(TokenMetricsOptions.MaxExportBatchSize));
        }

        // TimeSpan ranges are checked here: [Range(typeof(TimeSpan), ...)] is not trim-safe.
        CheckRange(builder, options.ExportInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(TokenMetricsOptions.ExportInterval));
        CheckRange(builder, options.ExportTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), nameof(TokenMetricsOptions.ExportTimeout));
        CheckRange(builder, options.ShutdownTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(10), nameof(TokenMetricsOptions.ShutdownTimeout));
        CheckRange(builder, options.BudgetStoreTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(TokenMetricsOptions.BudgetStoreTimeout));
        CheckRange(builder, options.ExportTotalTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(TokenMetricsOptions.ExportTotalTimeout));
        if (options.ExportTotalTimeout < options.ExportTimeout)
        {
            builder.AddError($"must be at least ExportTimeout ({options.ExportTimeout})", nameof(TokenMetricsOptions.ExportTotalTimeout));
        }

        CheckRange(builder, options.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(TokenMetricsOptions.RetryBaseDelay));
        CheckRange(builder, options.CircuitBreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromHours(1), nameof(TokenMetricsOptions.CircuitBreakDuration));
        foreach (var (message, member) in options.MetricLabels.Validate())
        {
            builder.AddError(message, nameof(TokenMetricsOptions.MetricLabels) + "." + member);
        }

        CheckRange(builder, options.ReplayInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), nameof(TokenMetricsOptions.ReplayInterval));
        if (!(options.SamplingRatio is >= 0.0 and <= 1.0))
        {
            builder.AddError($"must be between 0 and 1 (was {options.SamplingRatio})", nameof(TokenMetricsOptions.SamplingRatio));
        }

        if (options.SpoolDirectory is { } spool && (spool.Length == 0 || !System.IO.Path.IsPathFullyQualified(spool)))
        {
            builder.AddError("must be an absolute path (there is no default location, and no temporary-directory fallback)", nameof(TokenMetricsOptions.SpoolDirectory));
        }

        TokenMetricsAttributionOptionsValidation.Validate(builder, options.Attribution);
        PricingOptionsValidation.Validate(builder, options.Pricing);
        return builder.Build();
    }

    private static void CheckRange(ValidateOptionsResultBuilder builder, TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            builder.AddError($"must be between {min} and {max} (was {value})", name);
        }
    }
}

internal static class TokenMetricsOptionsValidation
{
    public static void ThrowIfInvalid(TokenMetricsOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(new TokenMetricsOptionsValidator().Validate(null, options));
        builder.AddResult(new TokenMetricsOptionsCustomValidator().Validate(null, options));
        var result = builder.Build();
        if (result.Failed)
        {
            throw new ValidationException("Invalid TokenMetricsOptions: " + result.FailureMessage);
        }
    }

    public static void ThrowIfInvalid(TokenMetricsHandlerOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(new TokenMetricsHandlerOptionsValidator().Validate(null, options));
        builder.AddResult(new TokenMetricsHandlerDimensionValidator().Validate(null, options));
        var result = builder.Build();
        if (result.Failed)
        {
            throw new ValidationException("Invalid TokenMetricsHandlerOptions: " + result.FailureMessage);
        }
    }
}

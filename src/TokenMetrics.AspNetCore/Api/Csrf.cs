using System.Threading.Tasks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>CSRF protection of the writes, with ASP.NET Core's <see cref="IAntiforgery"/>: a browser request must carry the token
/// (header <see cref="TokenMetricsEndpointOptions.CsrfHeaderName"/>, or the form field for the sign-in form). A request that
/// authenticates with an <c>Authorization</c> header is exempt: a browser never adds one to a cross-site request by itself.</summary>
internal static class Csrf
{
    /// <summary>Answers 400 and returns <see langword="false"/> when the token is missing or wrong.</summary>
    public static async Task<bool> ValidateAsync(HttpContext context, bool allowAuthorizationHeader = true)
    {
        if (allowAuthorizationHeader && context.Request.Headers.ContainsKey(HeaderNames.Authorization))
        {
            return true;
        }

        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        var headerName = context.RequestServices.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.HeaderName;
        var ours = context.Request.Headers[TokenMetricsEndpointOptions.CsrfHeaderName];

        // IAntiforgery reads the header the app configured (default RequestVerificationToken): hand ours over under that name.
        if (ours.Count > 0 && headerName is not null && !string.Equals(headerName, TokenMetricsEndpointOptions.CsrfHeaderName, StringComparison.OrdinalIgnoreCase))
        {
            context.Request.Headers[headerName] = ours;
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            await ApiHttp.WriteErrorAsync(
                context,
                StatusCodes.Status400BadRequest,
                $"The antiforgery token is missing or invalid: send the token from GET api/antiforgery in the {TokenMetricsEndpointOptions.CsrfHeaderName} header (or authenticate with an Authorization header).").ConfigureAwait(false);
            return false;
        }
    }
}

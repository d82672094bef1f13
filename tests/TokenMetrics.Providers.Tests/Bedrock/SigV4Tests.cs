using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics.Providers.Tests.Bedrock;

/// <summary>The AWS Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30T12:36:00Z, us-east-1, service "service",
/// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY): the published signatures, see TestData/bedrock/SOURCES.md.</summary>
public class SigV4Tests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static readonly DateTimeOffset Time = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    private static string Sign(string method, string url, string body = "", string? sessionToken = null, params (string, string)[] headers) =>
        SigV4.Authorization(method, new Uri(url), headers.Select(h => new KeyValuePair<string, string>(h.Item1, h.Item2)), System.Text.Encoding.UTF8.GetBytes(body), AccessKey, Secret, sessionToken, "us-east-1", "service", Time);

    [Theory]
    [InlineData("get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("post-vanilla", "POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")]
    [InlineData("get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    public void SuiteVectors_WithoutExtraHeaders(string name, string method, string url, string signature)
    {
        Assert.Equal(
            $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}",
            Sign(method, url));
        Assert.NotEmpty(name);
    }

    [Fact]
    public void PostXWwwFormUrlencoded_SignsTheBodyAndContentType() =>
        Assert.EndsWith(
            "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            Sign("POST", "https://example.amazonaws.com/", "Param1=value1", null, ("Content-Type", "application/x-www-form-urlencoded")));

    [Fact]
    public void PostHeaderKeySort_SortsLowerCasedNames() =>
        Assert.EndsWith(
            "SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            Sign("POST", "https://example.amazonaws.com/", string.Empty, null, ("My-Header1", "value1")));

    [Fact]
    public void PostStsHeaderAfter_SignsTheSessionToken() =>
        Assert.EndsWith(
            "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            Sign("POST", "https://example.amazonaws.com/", string.Empty, "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="));

    [Fact]
    public void SigningKey_MatchesThePublishedDerivation() =>
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", Convert.ToHexStringLower(SigV4.SigningKey(Secret, "20150830", "us-east-1", "iam")));

    [Fact]
    public void CanonicalUri_EncodesTheEncodedModelIdAgain() =>
        Assert.Equal("/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse", SigV4.CanonicalUri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"));

    /// <summary>AWS expects the colon of a model id encoded on the wire (%3A) and encoded again in the canonical URI (%253A):
    /// tontinton/maki#212, higress-group/higress#3590, nolabs-ai/nono#1430. The rewriter's URI must keep the %3A for that.</summary>
    [Fact]
    public void RewrittenUri_KeepsTheEncodedColon_SoTheCanonicalUriDoubleEncodesIt()
    {
        var uri = new Uri(new Uri("https://bedrock-runtime.us-east-1.amazonaws.com/"), "model/" + Uri.EscapeDataString("us.anthropic.claude-sonnet-4-20250514-v1:0") + "/converse");

        Assert.Equal("/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse", uri.AbsolutePath);
        Assert.Equal("/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/converse", SigV4.CanonicalUri(uri.AbsolutePath));
    }
}

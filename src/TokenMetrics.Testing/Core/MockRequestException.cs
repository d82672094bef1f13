namespace TokenMetrics.Testing.Internal;

/// <summary>A request the mock cannot serve; answered with HTTP 400 in the protocol's error format.</summary>
internal sealed class MockRequestException : Exception
{
    public MockRequestException()
    {
    }

    public MockRequestException(string message)
        : base(message)
    {
    }

    public MockRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

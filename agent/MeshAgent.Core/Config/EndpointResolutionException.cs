namespace MeshAgent.Core.Config;

/// <summary>A peer's Endpoint host name did not resolve to a usable address.</summary>
public sealed class EndpointResolutionException : Exception
{
    public EndpointResolutionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

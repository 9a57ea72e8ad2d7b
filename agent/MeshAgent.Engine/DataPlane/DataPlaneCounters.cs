namespace MeshAgent.Engine.DataPlane;

/// <summary>Data-plane drops and totals; lock-free, read by status and metrics.</summary>
public sealed class DataPlaneCounters
{
    public long PacketsFromTun;
    public long PacketsToTun;
    public long NoRoute;
    public long NoEndpoint;
    public long SourceNotAllowed;
    public long TunReadErrors;
    public long TunWriteErrors;
    public long UdpReceiveErrors;
    public long UdpSendFailures;
    public long ControlQueueFull;

    /// <summary>Datagrams from a TCP relay stream or a probe socket dropped because the outside thread's queue was full.</summary>
    public long InjectedDropped;

    public long UnknownDatagrams;
    public long Batches;
    public long Segments;
    public long MalformedFromTun;
    public long ControlFrames;
}

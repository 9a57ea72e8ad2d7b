using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;
using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.Paths;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Hard-NAT probe sockets (PathManager.HardNat.cs has the protocol; Tailscale's "How NAT traversal works" the math).
//
//   open:     the hard side's manager asks for N extra UDP sockets (IPathActions.OpenProbeSockets). Each is a
//             plain IPv4 socket on a fresh port with its own receive loop (async, thread pool); the manager knows
//             them as sockets 1..N of PathAddress.Direct(endpoint, socket).
//   paths:    a direct path through probe socket k to remote R is a synthetic endpoint like a relayed one
//             (RelayedEndpoint, relay field = ProbeRelayIndex, slot = (socket, R) route), so WireGuard, roaming and
//             the data plane need no new case: sends for it reach SendRelayed → SendProbe → socket.SendTo(R), and
//             datagrams socket k receives from R are injected into the data plane (InjectRelayed) with that
//             synthetic source. PathOf maps the source back to Direct(R, k) for the manager.
//   close:    when the attempt ends the manager closes every socket but the winner (0: all); the winner lives
//             until the member's paths stop or the next attempt. Routes of closed sockets are removed.
//
// Bounds: at most MaxProbeSockets open at once for all members together (a member asking beyond gets fewer or 0);
// a route table entry per (socket, remote) that sent or was sent to, removed with its socket.
internal sealed partial class MeshRuntime
{
    /// <summary>RelayedEndpoint relay field for probe-socket paths (relays are numbered from 0).</summary>
    private const ushort ProbeRelayIndex = 0x8000;

    /// <summary>Probe sockets open at once, all members together (the manager asks for 256 per attempt).</summary>
    private const int MaxProbeSockets = 768;

    private const int ProbeReceiveBufferSize = 2048;

    private readonly ConcurrentDictionary<uint, ProbeRoute> _probeRoutes = new();
    private readonly ConcurrentDictionary<(ProbeSocket Socket, UdpEndpoint Remote), uint> _probeSlots = new();
    private uint _nextProbeSlot;
    private int _openProbeSockets;
    private long _probeDropped;

    /// <summary>The synthetic endpoint for "to <paramref name="remote"/> from <paramref name="socket"/>" (any thread).</summary>
    private UdpEndpoint ProbeEndpointOf(ProbeSocket socket, UdpEndpoint remote)
    {
        if (_probeSlots.TryGetValue((socket, remote), out uint slot) && _probeRoutes.TryGetValue(slot, out ProbeRoute? known))
        {
            return known.Synthetic;
        }

        lock (_probeRoutes)
        {
            if (_probeSlots.TryGetValue((socket, remote), out slot) && _probeRoutes.TryGetValue(slot, out known))
            {
                return known.Synthetic;
            }

            slot = ++_nextProbeSlot;
            IPEndPoint unmapped = remote.ToIPEndPoint().Unmapped();
            var route = new ProbeRoute(socket, UdpEndpoint.FromIPEndPoint(Normalize(unmapped)), unmapped.Serialize(),
                UdpEndpoint.FromIPEndPoint(RelayedEndpoint.Create(ProbeRelayIndex, slot)));
            _probeRoutes[slot] = route;
            _probeSlots[(socket, remote)] = slot;
            return route.Synthetic;
        }
    }

    /// <summary>Data-plane threads and the engine's control thread: a sealed datagram for a probe-socket path.</summary>
    private void SendProbe(uint slot, ReadOnlySpan<byte> datagram)
    {
        if (!_probeRoutes.TryGetValue(slot, out ProbeRoute? route) || !route.Socket.TrySend(datagram, route.SendAddress))
        {
            Interlocked.Increment(ref _probeDropped);
        }
    }

    /// <summary>The probe-socket path a synthetic source stands for, in the manager's form.</summary>
    private bool TryProbePathOf(in UdpEndpoint source, out PathAddress path)
    {
        path = TryRouteOf(source, ProbeRelayIndex, _probeRoutes, out ProbeRoute? route) ? PathAddress.Direct(route.Remote, route.Socket.Index) : default;
        return route is not null;
    }

    /// <summary>For status: the real remote endpoint behind a probe-socket path, or null.</summary>
    private string? ProbeEndpointText(PeerEndpoint? endpoint)
    {
        return endpoint is { IsRelayed: true } e && TryRouteOf(e.Udp, ProbeRelayIndex, _probeRoutes, out ProbeRoute? route)
            ? $"{route.Remote.ToIPEndPoint().Unmapped()} (probe socket {route.Socket.Index}, port {route.Socket.LocalPort})"
            : null;
    }

    private static bool IsProbePath(PeerEndpoint? endpoint) => IsSynthetic(endpoint, ProbeRelayIndex);

    /// <summary>True when <paramref name="endpoint"/> is a synthetic endpoint of kind <paramref name="index"/> (relay, probe socket, peer relay).</summary>
    private static bool IsSynthetic(PeerEndpoint? endpoint, ushort index) =>
        endpoint is { IsRelayed: true } e && RelayedEndpoint.TryRead(e.Udp, out ushort relay, out _) && relay == index;

    /// <summary>The route behind a synthetic endpoint of kind <paramref name="index"/>, from that kind's slot table (any thread).</summary>
    private static bool TryRouteOf<T>(in UdpEndpoint endpoint, ushort index, ConcurrentDictionary<uint, T> routes, [NotNullWhen(true)] out T? route)
        where T : class
    {
        route = null;
        return RelayedEndpoint.TryRead(endpoint, out ushort relay, out uint slot) && relay == index && routes.TryGetValue(slot, out route);
    }

    /// <summary>Opens up to <paramref name="count"/> sockets for <paramref name="owner"/> within the runtime-wide bound.</summary>
    private List<ProbeSocket> OpenProbeSockets(MemberEntry owner, int count)
    {
        var opened = new List<ProbeSocket>();
        int allowed = Math.Min(count, MaxProbeSockets - Volatile.Read(ref _openProbeSockets));
        for (int i = 1; i <= allowed; i++)
        {
            ProbeSocket? socket = ProbeSocket.TryOpen(this, owner, i);
            if (socket is null)
            {
                break; // out of descriptors or ports: probe with what we have
            }

            opened.Add(socket);
        }

        Interlocked.Add(ref _openProbeSockets, opened.Count);
        if (opened.Count < count)
        {
            _log.WriteLine($"meshagent: hard-NAT probing: opened {opened.Count} of {count} probe sockets ({Volatile.Read(ref _openProbeSockets)} open in all, limit {MaxProbeSockets})");
        }

        return opened;
    }

    private void CloseProbeSocket(ProbeSocket socket)
    {
        if (!socket.Close())
        {
            return;
        }

        Interlocked.Decrement(ref _openProbeSockets);
        foreach (KeyValuePair<(ProbeSocket Socket, UdpEndpoint Remote), uint> pair in _probeSlots)
        {
            if (pair.Key.Socket == socket)
            {
                _probeSlots.TryRemove(pair.Key, out _);
                _probeRoutes.TryRemove(pair.Value, out _);
            }
        }
    }

    /// <summary>Thread pool: a datagram probe socket <paramref name="socket"/> received from <paramref name="from"/>.</summary>
    private void OnProbeDatagram(ProbeSocket socket, ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (!WireGuardMessage.LooksLikeWireGuard(datagram))
        {
            Interlocked.Increment(ref _probeDropped); // only the peer's session datagrams belong here
            return;
        }

        UdpEndpoint synthetic = ProbeEndpointOf(socket, UdpEndpoint.FromIPEndPoint(Normalize(from)));
        if (!_dataPlane.InjectRelayed(datagram, synthetic))
        {
            Interlocked.Increment(ref _probeDropped);
        }
    }

    /// <summary>A (probe socket, remote) pair: how to send there, and the synthetic endpoint that names it.</summary>
    private sealed record ProbeRoute(ProbeSocket Socket, UdpEndpoint Remote, SocketAddress SendAddress, UdpEndpoint Synthetic);

    /// <summary>One extra UDP socket of a hard-NAT attempt, with its receive loop.</summary>
    private sealed class ProbeSocket
    {
        private readonly MeshRuntime _runtime;
        private readonly Socket _socket;
        private readonly CancellationTokenSource _stop = new();
        private int _closed;

        private ProbeSocket(MeshRuntime runtime, MemberEntry owner, int index, Socket socket)
        {
            _runtime = runtime;
            Owner = owner;
            Index = index;
            _socket = socket;
            LocalPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        public MemberEntry Owner { get; }

        /// <summary>The manager's number for this socket (1..N).</summary>
        public int Index { get; }

        public int LocalPort { get; }

        public static ProbeSocket? TryOpen(MeshRuntime runtime, MemberEntry owner, int index)
        {
            Socket? socket = null;
            try
            {
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(new IPEndPoint(IPAddress.Any, 0));
                var probe = new ProbeSocket(runtime, owner, index, socket);
                _ = probe.ReceiveLoopAsync();
                return probe;
            }
            catch (SocketException)
            {
                socket?.Dispose();
                return null;
            }
        }

        /// <summary>Any thread. False when the socket is closed or the kernel refused the datagram.</summary>
        public bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress to)
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                return false;
            }

            try
            {
                return _socket.SendTo(datagram, SocketFlags.None, to) == datagram.Length;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }

        /// <summary>True for the call that closed it.</summary>
        public bool Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return false;
            }

            _stop.Cancel(); // not disposed: the receive loop may still be unwinding with its token
            _socket.Dispose();
            return true;
        }

        private async Task ReceiveLoopAsync()
        {
            byte[] buffer = new byte[ProbeReceiveBufferSize];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            CancellationToken token = _stop.Token;
            while (Volatile.Read(ref _closed) == 0)
            {
                SocketReceiveFromResult result;
                try
                {
                    result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.MessageSize })
                {
                    continue; // an ICMP error for an earlier send, or an oversized datagram: not fatal
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return; // closed
                }

                _runtime.OnProbeDatagram(this, buffer.AsSpan(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
            }
        }
    }
}

using System.Net;
using MeshAgent.Core.Crypto;
using MeshAgent.Engine.WireGuard;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Engine;

/// <summary>
/// Two <see cref="WireGuardDevice"/>s joined by an in-memory network with manual time: every
/// datagram a device sends is queued for the other and delivered by <see cref="Pump"/>, so
/// tests see exactly which messages cross and can drop, replay or tamper with them.
/// </summary>
internal sealed class DevicePair : IDisposable
{
    public static readonly IPEndPoint EndpointA = new(IPAddress.Parse("192.0.2.1"), 51820);
    public static readonly IPEndPoint EndpointB = new(IPAddress.Parse("192.0.2.2"), 51820);

    public DevicePair(byte[]? psk = null, ManualTimeProvider? time = null)
    {
        Time = time ?? new ManualTimeProvider();
        KeyA = NewKey();
        KeyB = NewKey();
        NetA = new Wire(this, EndpointA);
        NetB = new Wire(this, EndpointB);
        A = new WireGuardDevice(new WireGuardDeviceOptions { PrivateKey = KeyA, Time = Time, Jitter = () => 0 }, NetA);
        B = new WireGuardDevice(new WireGuardDeviceOptions { PrivateKey = KeyB, Time = Time, Jitter = () => 0 }, NetB);
        PeerBOnA = A.AddPeer(B.PublicKey, psk ?? default, EndpointB);
        PeerAOnB = B.AddPeer(A.PublicKey, psk ?? default, EndpointA);
    }

    public ManualTimeProvider Time { get; }

    public byte[] KeyA { get; }

    public byte[] KeyB { get; }

    public WireGuardDevice A { get; }

    public WireGuardDevice B { get; }

    public Wire NetA { get; }

    public Wire NetB { get; }

    public Peer PeerBOnA { get; }

    public Peer PeerAOnB { get; }

    /// <summary>Payloads delivered to A (from B) and to B (from A).</summary>
    public List<byte[]> DeliveredToA { get; } = [];

    public List<byte[]> DeliveredToB { get; } = [];

    /// <summary>Optional filter: return false to drop a datagram in flight.</summary>
    public Func<IPEndPoint, byte[], bool>? Filter { get; set; }

    public List<(IPEndPoint From, byte[] Datagram)> InFlight { get; } = [];

    public static byte[] NewKeyPublic()
    {
        var publicKey = new byte[32];
        X25519.DerivePublicKey(NewKey(), publicKey);
        return publicKey;
    }

    public static byte[] NewKey()
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        return key;
    }

    /// <summary>Runs both devices' control work and delivers datagrams until the network is quiet.</summary>
    public int Pump(int maxRounds = 50)
    {
        int delivered = 0;
        for (int round = 0; round < maxRounds; round++)
        {
            A.Tick();
            B.Tick();
            if (InFlight.Count == 0)
            {
                return delivered;
            }

            var batch = InFlight.ToArray();
            InFlight.Clear();
            foreach ((IPEndPoint from, byte[] datagram) in batch)
            {
                if (Filter is not null && !Filter(from, datagram))
                {
                    continue;
                }

                Deliver(from, datagram);
                delivered++;
            }
        }

        return delivered;
    }

    public InboundResult Deliver(IPEndPoint from, byte[] datagram)
    {
        WireGuardDevice target = from.Equals(EndpointA) ? B : A;
        byte[] copy = (byte[])datagram.Clone();
        InboundResult result = target.ReceiveOutside(copy, from);
        if (result.Kind == InboundKind.Data)
        {
            (target == A ? DeliveredToA : DeliveredToB).Add(copy.AsSpan(result.PayloadOffset, result.PayloadLength).ToArray());
        }

        return result;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }

    internal sealed class Wire(DevicePair pair, IPEndPoint self) : IOutsideSender
    {
        public List<byte[]> Sent { get; } = [];

        /// <summary>Where each datagram of <see cref="Sent"/> was addressed (delivery ignores it: the pair has one link).</summary>
        public List<IPEndPoint> Destinations { get; } = [];

        public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
        {
            byte[] copy = datagram.ToArray();
            Sent.Add(copy);
            Destinations.Add(destination);
            pair.InFlight.Add((self, copy));
        }
    }
}

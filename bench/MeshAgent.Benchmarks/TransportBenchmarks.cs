using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using MeshAgent.Core.Crypto;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Benchmarks;

/// <summary>
/// One 1420-byte transport packet through the engine's data-plane calls: <see cref="WireGuardDevice.TrySeal"/>
/// on A (counter, padding, header, AEAD) and <see cref="WireGuardDevice.ReceiveTransport"/> on B (index lookup,
/// AEAD open, replay window, timers). No sockets: this is the per-packet CPU cost of the engine itself.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortRunConfig))]
public class TransportBenchmarks
{
    private const int PayloadLength = 1420;

    private readonly byte[] _buffer = new byte[16 + PayloadLength + 16];
    private DevicePair _pair = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pair = new DevicePair();
        _pair.Handshake();

        // An IPv4 header that says 1420 bytes, so the receiver keeps the whole payload.
        _buffer[16] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(18), PayloadLength);
        if (SealAndReceive() != PayloadLength)
        {
            throw new InvalidOperationException("the warm-up packet did not arrive intact");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pair.Dispose();

    /// <summary>
    /// Opening in place leaves the plaintext where sealing expects it, so the same buffer goes round without
    /// a copy. Returns the delivered length.
    /// </summary>
    [Benchmark]
    public int SealAndReceive()
    {
        if (_pair.A.TrySeal(_pair.PeerBOnA, _buffer, PayloadLength, PayloadLength, out int length) != SealStatus.Sealed)
        {
            throw new InvalidOperationException("A has no session with B");
        }

        InboundResult result = _pair.B.ReceiveTransport(_buffer.AsSpan(0, length), DevicePair.EndpointA);
        return result.Kind == InboundKind.Data ? result.PayloadLength : throw new InvalidOperationException($"B dropped the packet: {result.Drop}");
    }

    /// <summary>
    /// Two devices on an in-memory wire, with a clock that never moves (so no session expires or rekeys while
    /// BenchmarkDotNet runs). Not a test fixture: the tests have their own (tests/…/Engine/DevicePair.cs).
    /// </summary>
    private sealed class DevicePair : IDisposable
    {
        public static readonly IPEndPoint EndpointA = new(IPAddress.Parse("192.0.2.1"), 51820);
        public static readonly IPEndPoint EndpointB = new(IPAddress.Parse("192.0.2.2"), 51820);

        private readonly Queue<(IPEndPoint From, byte[] Datagram)> _inFlight = new();

        public DevicePair()
        {
            var time = new FrozenTimeProvider();
            A = new WireGuardDevice(new WireGuardDeviceOptions { PrivateKey = NewPrivateKey(), Time = time, Jitter = () => 0 }, new Wire(this, EndpointA));
            B = new WireGuardDevice(new WireGuardDeviceOptions { PrivateKey = NewPrivateKey(), Time = time, Jitter = () => 0 }, new Wire(this, EndpointB));
            PeerBOnA = A.AddPeer(B.PublicKey, default, EndpointB);
            B.AddPeer(A.PublicKey, default, EndpointA);
        }

        public WireGuardDevice A { get; }

        public WireGuardDevice B { get; }

        public Peer PeerBOnA { get; }

        /// <summary>A initiates; initiation, response and A's confirming keepalive cross, so both sides have a current session.</summary>
        public void Handshake()
        {
            A.SendHandshakeInitiation(PeerBOnA, isRetry: false);
            for (int round = 0; round < 20 && _inFlight.Count > 0; round++)
            {
                while (_inFlight.TryDequeue(out var item))
                {
                    (item.From.Equals(EndpointA) ? B : A).ReceiveOutside(item.Datagram, item.From);
                }

                A.Tick();
                B.Tick();
            }

            if (PeerBOnA.Current is null)
            {
                throw new InvalidOperationException("the in-memory handshake between A and B did not complete");
            }
        }

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }

        private static byte[] NewPrivateKey()
        {
            var key = new byte[X25519.KeySize];
            X25519.GeneratePrivateKey(key);
            return key;
        }

        private sealed class Wire(DevicePair pair, IPEndPoint self) : IOutsideSender
        {
            public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => pair._inFlight.Enqueue((self, datagram.ToArray()));
        }
    }

    private sealed class FrozenTimeProvider : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public override long GetTimestamp() => 1_000_000_000;
    }
}

using BenchmarkDotNet.Attributes;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Noise;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Benchmarks;

/// <summary>
/// The Noise IKpsk2 part of a WireGuard handshake (no mac1/mac2, no index table, no timers):
/// initiator and responder in one process with fixed static keys and fresh random ephemerals.
/// A full handshake costs 4 X25519 on each side plus 1 key generation each (see the whitepaper §5.4).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortRunConfig))]
public class HandshakeBenchmarks
{
    private readonly byte[] _initiatorPrivate = new byte[X25519.KeySize];
    private readonly byte[] _responderPrivate = new byte[X25519.KeySize];
    private readonly byte[] _responderPublic = new byte[X25519.KeySize];
    private readonly byte[] _psk = new byte[32];
    private readonly byte[] _timestamp = new byte[WireGuardNoise.TimestampSize];
    private readonly byte[] _receivedTimestamp = new byte[WireGuardNoise.TimestampSize];
    private readonly byte[] _initiation = new byte[HandshakeInitiation.Size];
    private readonly byte[] _response = new byte[HandshakeResponse.Size];
    private readonly byte[] _sendKey = new byte[32];
    private readonly byte[] _receiveKey = new byte[32];
    private readonly byte[] _peerSendKey = new byte[32];
    private readonly byte[] _peerReceiveKey = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        X25519.GeneratePrivateKey(_initiatorPrivate);
        X25519.GeneratePrivateKey(_responderPrivate);
        X25519.DerivePublicKey(_responderPrivate, _responderPublic);
        Tai64N.Write(DateTimeOffset.UtcNow, _timestamp);
    }

    [Benchmark]
    public byte InitiationOnly()
    {
        using HandshakeState initiator = WireGuardNoise.CreateInitiation(_initiatorPrivate, _responderPublic, _psk, 1, _timestamp, _initiation);
        return _initiation[8];
    }

    /// <summary>Initiation, its consumption, the response, its consumption, and transport keys on both sides.</summary>
    [Benchmark]
    public byte FullHandshake()
    {
        using HandshakeState initiator = WireGuardNoise.CreateInitiation(_initiatorPrivate, _responderPublic, _psk, 1, _timestamp, _initiation);
        if (!WireGuardNoise.TryConsumeInitiation(_responderPrivate, _initiation, _receivedTimestamp, out uint sender, out HandshakeState? responder))
        {
            throw new InvalidOperationException("the responder rejected the initiation");
        }

        using (responder)
        {
            WireGuardNoise.CreateResponse(responder!, _psk, 2, sender, _response);
            if (!WireGuardNoise.TryConsumeResponse(initiator, _response))
            {
                throw new InvalidOperationException("the initiator rejected the response");
            }

            WireGuardNoise.DeriveTransportKeys(initiator, _sendKey, _receiveKey);
            WireGuardNoise.DeriveTransportKeys(responder!, _peerSendKey, _peerReceiveKey);
        }

        return _sendKey[0];
    }
}

using BenchmarkDotNet.Attributes;
using MeshAgent.Core.Crypto;
using MeshAgent.Engine.WireGuard;
using BclChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace MeshAgent.Benchmarks;

/// <summary>
/// ChaCha20-Poly1305 (RFC 8439) on one WireGuard-sized packet, in place, no associated data (as in transport
/// messages): libsodium, the BCL (one reused instance, OpenSSL underneath) and our direct OpenSSL EVP binding
/// (reused contexts). <c>SealOpen</c> is what a packet costs end to end (sender + receiver = two passes);
/// <c>Seal</c> alone is closer to <c>openssl speed -evp chacha20-poly1305</c>, which only encrypts (and, in
/// OpenSSL 3.0, streams: no per-message IV setup or tag, so it stays a lower bound).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortRunConfig))]
public class AeadBenchmarks
{
    private readonly byte[] _key = new byte[32];
    private byte[] _packet = [];
    private BclChaCha20Poly1305 _bcl = null!;
    private OpenSslChaCha20Poly1305 _openSsl = null!;
    private TransportCipher _transport = null!;
    private ulong _counter;

    /// <summary>1420 = the default WireGuard MTU (a full-size inner packet); 64 = a small packet (TCP ACK-sized).</summary>
    [Params(64, 1420)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SecureRandom.Fill(_key);
        _packet = new byte[Size + ChaCha20Poly1305Ietf.TagSize];
        SecureRandom.Fill(_packet);
        _bcl = new BclChaCha20Poly1305(_key);
        _openSsl = new OpenSslChaCha20Poly1305(_key);
        _transport = new TransportCipher(_key);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bcl.Dispose();
        _openSsl.Dispose();
        _transport.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool Libsodium_SealOpen()
    {
        ulong counter = _counter++;
        Span<byte> packet = _packet;
        Span<byte> payload = packet[..Size];
        ChaCha20Poly1305Ietf.Seal(_key, counter, payload, default, packet);
        return ChaCha20Poly1305Ietf.TryOpen(_key, counter, packet, default, payload);
    }

    [Benchmark]
    public void Bcl_SealOpen()
    {
        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        ChaCha20Poly1305Ietf.WriteCounterNonce(_counter++, nonce);
        Span<byte> payload = _packet.AsSpan(0, Size);
        Span<byte> tag = _packet.AsSpan(Size);
        _bcl.Encrypt(nonce, payload, payload, tag);
        _bcl.Decrypt(nonce, payload, tag, payload);
    }

    [Benchmark]
    public bool OpenSsl_SealOpen()
    {
        ulong counter = _counter++;
        Span<byte> packet = _packet;
        Span<byte> payload = packet[..Size];
        _openSsl.Seal(counter, payload, default, packet);
        return _openSsl.TryOpen(counter, packet, default, payload);
    }

    /// <summary>What the engine uses: OpenSSL through TransportCipher's context pool (two atomics per call).</summary>
    [Benchmark]
    public bool TransportCipher_SealOpen()
    {
        ulong counter = _counter++;
        _transport.SealInPlace(counter, _packet);
        return _transport.TryOpenInPlace(counter, _packet);
    }

    [Benchmark]
    public void Libsodium_Seal() =>
        ChaCha20Poly1305Ietf.Seal(_key, _counter++, _packet.AsSpan(0, Size), default, _packet);

    [Benchmark]
    public void Bcl_Seal()
    {
        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        ChaCha20Poly1305Ietf.WriteCounterNonce(_counter++, nonce);
        _bcl.Encrypt(nonce, _packet.AsSpan(0, Size), _packet.AsSpan(0, Size), _packet.AsSpan(Size));
    }

    [Benchmark]
    public void OpenSsl_Seal() =>
        _openSsl.Seal(_counter++, _packet.AsSpan(0, Size), default, _packet);
}

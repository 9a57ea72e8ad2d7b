using BenchmarkDotNet.Attributes;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Benchmarks;

/// <summary>
/// Our managed BLAKE2s: the unkeyed hash (Noise's HASH, also inside HMAC/KDF) over a short and a 1 KiB input,
/// and the 128-bit keyed MAC over the 116 bytes that mac1 covers in a handshake initiation.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortRunConfig))]
public class Blake2sBenchmarks
{
    private readonly byte[] _data = new byte[1024];
    private readonly byte[] _key = new byte[Blake2s.HashSize];
    private readonly byte[] _hash = new byte[Blake2s.HashSize];
    private readonly byte[] _mac = new byte[Blake2s.MacSize];

    [GlobalSetup]
    public void Setup()
    {
        SecureRandom.Fill(_data);
        SecureRandom.Fill(_key);
    }

    [Benchmark]
    [Arguments(64)]
    [Arguments(1024)]
    public byte Hash(int size)
    {
        Blake2s.Hash(_data.AsSpan(0, size), _hash);
        return _hash[0];
    }

    /// <summary>mac1 = MAC(HASH("mac1----" ‖ S_r^pub), initiation[0..116)).</summary>
    [Benchmark]
    public byte Mac1()
    {
        Blake2s.Mac(_key, _data.AsSpan(0, 116), _mac);
        return _mac[0];
    }
}

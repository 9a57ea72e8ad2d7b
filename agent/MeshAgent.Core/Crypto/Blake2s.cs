using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// BLAKE2s (RFC 7693), written here because libsodium only has BLAKE2b. WireGuard uses it three ways:
/// HASH = BLAKE2s-256, MAC = keyed BLAKE2s-128 (mac1/mac2, cookies; not HMAC), and inside HMAC/HKDF
/// (<see cref="HmacBlake2s"/>, <see cref="WireGuardKdf"/>). Sequential mode only: no salt, personalisation or tree.
/// </summary>
/// <remarks>
/// A mutable struct holding the whole state (no heap): create it, <see cref="Update"/> any number of times,
/// <see cref="Finish"/> once. Finish wipes the state, including a key; a finished or default instance throws
/// <see cref="InvalidOperationException"/>. Do not copy an instance mid-hash unless you mean to fork it.
/// </remarks>
public struct Blake2s
{
    public const int HashSize = 32, MacSize = 16, BlockSize = 64, MaxKeySize = 32;

    private const int Rounds = 10;

    // RFC 7693 §2.6: the SHA-256 initial values. Constants rather than a ReadOnlySpan<uint> property: a
    // collection expression of uint allocated a new array on every access here (measured: 72 bytes per hash).
    private const uint IV0 = 0x6A09E667u, IV1 = 0xBB67AE85u, IV2 = 0x3C6EF372u, IV3 = 0xA54FF53Au;
    private const uint IV4 = 0x510E527Fu, IV5 = 0x9B05688Cu, IV6 = 0x1F83D9ABu, IV7 = 0x5BE0CD19u;

    // RFC 7693 §2.7: message word schedule, one row of 16 indices per round.
    private static ReadOnlySpan<byte> Sigma =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ];

    private ChainValue _h;
    private Block _buffer;
    private ulong _byteCount;   // t in RFC 7693: bytes compressed so far, including the key block
    private int _bufferLength;  // 0..64; a full buffer is kept until more data proves it is not the last block
    private int _outputLength;  // 1..32, or 0 when not initialised / finished

    /// <summary>
    /// Starts a hash with <paramref name="outputLength"/> bytes of output (1..32) and an optional key (0..32 bytes).
    /// A keyed hash is a MAC (RFC 7693 §2.5: the key, zero-padded to a block, is the first block).
    /// </summary>
    public Blake2s(int outputLength, ReadOnlySpan<byte> key = default)
    {
        if (outputLength is < 1 or > HashSize)
        {
            throw new ArgumentOutOfRangeException(nameof(outputLength), outputLength, $"BLAKE2s output length must be 1..{HashSize} bytes.");
        }

        if (key.Length > MaxKeySize)
        {
            throw new ArgumentException($"A BLAKE2s key must be at most {MaxKeySize} bytes long (it is {key.Length}).", nameof(key));
        }

        Span<uint> h = _h;
        // Parameter block word 0 (RFC 7693 §2.5): digest length, key length, fanout = 1, depth = 1.
        h[0] = IV0 ^ 0x01010000u ^ ((uint)key.Length << 8) ^ (uint)outputLength;
        h[1] = IV1;
        h[2] = IV2;
        h[3] = IV3;
        h[4] = IV4;
        h[5] = IV5;
        h[6] = IV6;
        h[7] = IV7;
        _outputLength = outputLength;

        if (!key.IsEmpty)
        {
            key.CopyTo(_buffer);
            _bufferLength = BlockSize;
        }
    }

    public void Update(ReadOnlySpan<byte> data)
    {
        ThrowIfNotInitialized();
        if (data.IsEmpty)
        {
            return;
        }

        Span<byte> buffer = _buffer;
        int free = BlockSize - _bufferLength;
        if (data.Length > free)
        {
            // The buffered block is followed by more data, so it is not the final block: compress it.
            data[..free].CopyTo(buffer[_bufferLength..]);
            data = data[free..];
            _byteCount += BlockSize;
            Compress(buffer, isFinal: false);
            _bufferLength = 0;

            // Whole blocks straight from the input, always keeping at least one byte for Finish.
            while (data.Length > BlockSize)
            {
                _byteCount += BlockSize;
                Compress(data[..BlockSize], isFinal: false);
                data = data[BlockSize..];
            }
        }

        data.CopyTo(buffer[_bufferLength..]);
        _bufferLength += data.Length;
    }

    /// <summary>Writes the digest (exactly the output length given at construction) and wipes the state.</summary>
    public void Finish(Span<byte> output)
    {
        ThrowIfNotInitialized();
        if (output.Length != _outputLength)
        {
            throw new ArgumentException($"output must be exactly {_outputLength} bytes long, the length this BLAKE2s was created with (it is {output.Length}).", nameof(output));
        }

        Span<byte> buffer = _buffer;
        _byteCount += (uint)_bufferLength;
        buffer[_bufferLength..].Clear();
        Compress(buffer, isFinal: true);

        // RFC 7693 §3.3: the digest is h in little-endian byte order, truncated.
        ReadOnlySpan<uint> h = _h;
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = (byte)(h[i >> 2] >> (8 * (i & 3)));
        }

        Clear();
    }

    /// <summary>Unkeyed BLAKE2s-256 (WireGuard HASH).</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> hash32)
    {
        CryptoArgs.RequireLength(hash32.Length, HashSize, nameof(hash32));
        var state = new Blake2s(HashSize);
        state.Update(data);
        state.Finish(hash32);
    }

    /// <summary>BLAKE2s-256(a ‖ b) without concatenating: the <c>HASH(h ‖ x)</c> step of the Noise handshake.</summary>
    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> hash32)
    {
        CryptoArgs.RequireLength(hash32.Length, HashSize, nameof(hash32));
        var state = new Blake2s(HashSize);
        state.Update(a);
        state.Update(b);
        state.Finish(hash32);
    }

    /// <summary>
    /// Keyed BLAKE2s-128, WireGuard's MAC (mac1, mac2, cookie; wireguard-go <c>blake2s.New128(key)</c>).
    /// The key must be 1..32 bytes, as in Go's <c>New128</c>. <paramref name="mac16"/> may alias the inputs.
    /// </summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16)
    {
        if (key.IsEmpty)
        {
            throw new ArgumentException("A BLAKE2s MAC needs a key of 1..32 bytes (it is empty).", nameof(key));
        }

        CryptoArgs.RequireLength(mac16.Length, MacSize, nameof(mac16));
        var state = new Blake2s(MacSize, key);
        state.Update(data);
        state.Finish(mac16);
    }

    private readonly void ThrowIfNotInitialized()
    {
        if (_outputLength == 0)
        {
            throw new InvalidOperationException("This BLAKE2s state is finished or was never initialised: create a new one with new Blake2s(outputLength, key).");
        }
    }

    private void Clear()
    {
        Span<uint> h = _h;
        Span<byte> buffer = _buffer;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(h));
        CryptographicOperations.ZeroMemory(buffer);
        _byteCount = 0;
        _bufferLength = 0;
        _outputLength = 0;
    }

    /// <summary>The compression function F (RFC 7693 §3.2).</summary>
    private void Compress(ReadOnlySpan<byte> block, bool isFinal)
    {
        Span<uint> h = _h;

        Span<uint> m = stackalloc uint[16];
        for (int i = 0; i < 16; i++)
        {
            m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * i)..]);
        }

        uint v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
        uint v8 = IV0, v9 = IV1, v10 = IV2, v11 = IV3;
        uint v12 = IV4 ^ (uint)_byteCount;
        uint v13 = IV5 ^ (uint)(_byteCount >> 32);
        uint v14 = isFinal ? ~IV6 : IV6;
        uint v15 = IV7;

        for (int round = 0; round < Rounds; round++)
        {
            ReadOnlySpan<byte> s = Sigma.Slice(16 * round, 16);
            // Columns, then diagonals.
            G(ref v0, ref v4, ref v8, ref v12, m[s[0]], m[s[1]]);
            G(ref v1, ref v5, ref v9, ref v13, m[s[2]], m[s[3]]);
            G(ref v2, ref v6, ref v10, ref v14, m[s[4]], m[s[5]]);
            G(ref v3, ref v7, ref v11, ref v15, m[s[6]], m[s[7]]);
            G(ref v0, ref v5, ref v10, ref v15, m[s[8]], m[s[9]]);
            G(ref v1, ref v6, ref v11, ref v12, m[s[10]], m[s[11]]);
            G(ref v2, ref v7, ref v8, ref v13, m[s[12]], m[s[13]]);
            G(ref v3, ref v4, ref v9, ref v14, m[s[14]], m[s[15]]);
        }

        h[0] ^= v0 ^ v8;
        h[1] ^= v1 ^ v9;
        h[2] ^= v2 ^ v10;
        h[3] ^= v3 ^ v11;
        h[4] ^= v4 ^ v12;
        h[5] ^= v5 ^ v13;
        h[6] ^= v6 ^ v14;
        h[7] ^= v7 ^ v15;

        // The message words of a keyed first block are the key.
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(m));
    }

    /// <summary>The mixing function G (RFC 7693 §3.1) with BLAKE2s's rotations 16, 12, 8, 7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref uint a, ref uint b, ref uint c, ref uint d, uint x, uint y)
    {
        a = a + b + x;
        d = BitOperations.RotateRight(d ^ a, 16);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 12);
        a = a + b + y;
        d = BitOperations.RotateRight(d ^ a, 8);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 7);
    }

    [InlineArray(8)]
    private struct ChainValue
    {
        private uint _element0;
    }

    [InlineArray(BlockSize)]
    private struct Block
    {
        private byte _element0;
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MeshAgent.Core.Net;

/// <summary>
/// RFC 1071 ones'-complement checksum, accumulated 64 bits at a time (RFC 1071 §2(B): the sum
/// is byte-order independent, so native-endian 64-bit adds with end-around carry give the same
/// folded result as 16-bit big-endian adds, byte-swapped once at the end on little-endian).
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds data to a running 32-bit partial sum (big-endian 16-bit words; unfolded).</summary>
    public static uint Add(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = 0;
        int i = 0;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong word in words)
        {
            ulong before = sum;
            sum += word;
            sum += sum < before ? 1UL : 0UL; // end-around carry
        }

        i = words.Length * 8;
        // Fold 64 → 32 → 16 in native order, then bring to big-endian word order.
        ulong folded = (sum & 0xFFFFFFFF) + (sum >> 32);
        folded = (folded & 0xFFFFFFFF) + (folded >> 32);
        uint native16 = (uint)((folded & 0xFFFF) + ((folded >> 16) & 0xFFFF));
        native16 = (native16 & 0xFFFF) + (native16 >> 16);
        uint result = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)native16) : native16;

        for (; i + 1 < data.Length; i += 2)
        {
            result += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            result += (uint)data[i] << 8;
        }

        return Fold(result + (initial & 0xFFFF) + (initial >> 16));
    }

    /// <summary>Folds a partial sum to 16 bits (not complemented).</summary>
    public static uint Fold(uint sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return sum;
    }

    /// <summary>The checksum field value for the data: ~fold(sum).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, uint initial = 0) => (ushort)~Add(data, initial);

    /// <summary>TCP/UDP pseudo-header partial sum (RFC 793 §3.1, RFC 8200 §8.1).</summary>
    public static uint PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        uint sum = Add(source);
        sum = Add(destination, sum);
        return Fold(sum + protocol + (uint)(length & 0xFFFF) + (uint)(length >> 16));
    }
}

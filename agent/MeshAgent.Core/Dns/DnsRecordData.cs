using System.Buffers;

namespace MeshAgent.Core.Dns;

/// <summary>
/// The RDATA of one resource record, by type. Immutable. Two RDATA are equal when their
/// canonical forms (<see cref="GetCanonicalBytes"/>: uncompressed, as RFC 6762 §8.2 compares
/// them) are equal byte for byte.
/// </summary>
public abstract class DnsRecordData : IEquatable<DnsRecordData>
{
    private byte[]? _canonical;

    public abstract DnsRecordType Type { get; }

    /// <summary>
    /// The RDATA with every name written in full: what RFC 6762 §8.2 compares during simultaneous
    /// probe tie-breaking, and what equality here means. Cached; do not modify.
    /// </summary>
    public byte[] GetCanonicalBytes()
    {
        if (_canonical is null)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ushort.MaxValue);
            try
            {
                var writer = new DnsWriter(buffer, compress: false);
                if (!TryWrite(ref writer, compressNames: false))
                {
                    throw new InvalidOperationException($"{Type} RDATA is longer than {ushort.MaxValue} bytes");
                }

                _canonical = writer.Written.ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return _canonical;
    }

    /// <summary>Writes the RDATA (without RDLENGTH). Names go through the writer's compression when <paramref name="compressNames"/> and the type allows it (RFC 6762 §18.14).</summary>
    public abstract bool TryWrite(ref DnsWriter writer, bool compressNames);

    public bool Equals(DnsRecordData? other) =>
        other is not null && Type == other.Type && GetCanonicalBytes().AsSpan().SequenceEqual(other.GetCanonicalBytes());

    public override bool Equals(object? obj) => Equals(obj as DnsRecordData);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.AddBytes(GetCanonicalBytes());
        return hash.ToHashCode();
    }

    /// <summary>
    /// Reads RDATA of <paramref name="type"/> occupying exactly <paramref name="length"/> bytes at the
    /// reader's position; names may be compressed (pointers into the whole message). A field that
    /// runs past RDLENGTH, or bytes left over before it, is <see cref="DnsReadError.BadRecordData"/>.
    /// </summary>
    internal static bool TryRead(ref DnsReader reader, DnsRecordType type, int length, out DnsRecordData? data)
    {
        data = null;
        if (length > reader.Remaining)
        {
            return reader.Fail(DnsReadError.Truncated);
        }

        int end = reader.Position + length;
        DnsReader rdata = reader.Limit(end);
        bool ok = type switch
        {
            DnsRecordType.A => DnsAData.TryReadData(ref rdata, length, out data),
            DnsRecordType.Aaaa => DnsAaaaData.TryReadData(ref rdata, length, out data),
            DnsRecordType.Ptr => DnsPtrData.TryReadData(ref rdata, out data),
            DnsRecordType.Srv => DnsSrvData.TryReadData(ref rdata, out data),
            DnsRecordType.Txt => DnsTxtData.TryReadData(ref rdata, out data),
            DnsRecordType.Nsec => DnsNsecData.TryReadData(ref rdata, out data),
            _ => DnsUnknownData.TryReadData(ref rdata, type, length, out data),
        };
        if (!ok || rdata.Remaining != 0)
        {
            data = null;
            return reader.Fail(!ok && rdata.Error != DnsReadError.Truncated ? rdata.Error : DnsReadError.BadRecordData);
        }

        reader.Skip(length);
        return true;
    }
}

using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Tests.MessagePack;

/// <summary>
/// A plain tree model of MessagePack values for the property tests: the writer encodes a tree, the
/// reader (driven generically by <see cref="MessagePackReader.TryPeekType"/>) decodes it back.
/// Integers are <see cref="Int128"/> so one model covers the whole -2^63..2^64-1 range of the spec.
/// </summary>
internal abstract record MpValue
{
    public static void Write(ref MessagePackWriter writer, MpValue value)
    {
        switch (value)
        {
            case MpNil:
                writer.WriteNil();
                break;
            case MpBool b:
                writer.WriteBoolean(b.Value);
                break;
            case MpInt i when i.Value < 0:
                writer.WriteInt64((long)i.Value);
                break;
            case MpInt i:
                writer.WriteUInt64((ulong)i.Value);
                break;
            case MpFloat f:
                writer.WriteFloat64(f.Value);
                break;
            case MpStr s:
                writer.WriteString(s.Value);
                break;
            case MpBin b:
                writer.WriteBinary(b.Value);
                break;
            case MpArray a:
                writer.WriteArrayHeader(a.Items.Length);
                foreach (MpValue item in a.Items)
                {
                    Write(ref writer, item);
                }

                break;
            case MpMap m:
                writer.WriteMapHeader(m.Pairs.Length);
                foreach ((MpValue key, MpValue item) in m.Pairs)
                {
                    Write(ref writer, key);
                    Write(ref writer, item);
                }

                break;
            default:
                throw new InvalidOperationException(value.GetType().Name);
        }
    }

    public static byte[] Encode(MpValue value)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        Write(ref writer, value);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Generic decoder: false on anything the reader refuses.</summary>
    public static bool TryRead(ref MessagePackReader reader, out MpValue? value)
    {
        value = null;
        if (!reader.TryPeekType(out MessagePackType type))
        {
            return false;
        }

        switch (type)
        {
            case MessagePackType.Nil:
                value = new MpNil();
                return reader.TryReadNil();
            case MessagePackType.Boolean:
                bool ok = reader.TryReadBoolean(out bool flag);
                value = new MpBool(flag);
                return ok;
            case MessagePackType.Integer:
                if (reader.TryReadUInt64(out ulong u))
                {
                    value = new MpInt(u);
                    return true;
                }

                ok = reader.TryReadInt64(out long l);
                value = new MpInt(l);
                return ok;
            case MessagePackType.Float:
                ok = reader.TryReadFloat64(out double d);
                value = new MpFloat(d);
                return ok;
            case MessagePackType.String:
                ok = reader.TryReadString(out string? s);
                value = new MpStr(s ?? "");
                return ok;
            case MessagePackType.Binary:
                ok = reader.TryReadBinary(out ReadOnlySpan<byte> bytes);
                value = new MpBin(bytes.ToArray());
                return ok;
            case MessagePackType.Array:
                if (!reader.TryReadArrayHeader(out int count))
                {
                    return false;
                }

                var items = new MpValue[count];
                for (int i = 0; i < count; i++)
                {
                    if (!TryRead(ref reader, out items[i]!))
                    {
                        return false;
                    }
                }

                value = new MpArray(items);
                return true;
            case MessagePackType.Map:
                if (!reader.TryReadMapHeader(out count))
                {
                    return false;
                }

                var pairs = new (MpValue, MpValue)[count];
                for (int i = 0; i < count; i++)
                {
                    if (!TryRead(ref reader, out MpValue? key) || !TryRead(ref reader, out MpValue? item))
                    {
                        return false;
                    }

                    pairs[i] = (key!, item!);
                }

                value = new MpMap(pairs);
                return true;
            default:
                return reader.TrySkip() && false; // extensions are not modelled
        }
    }

    public abstract bool SameAs(MpValue other);

    // Strings are built from pieces so every one is valid UTF-16 (the writer rightly refuses lone surrogates),
    // with 1-, 2-, 3- and 4-byte UTF-8 sequences and a NUL.
    private static readonly string[] Pieces = ["a", "z", "-", "\0", "é", "€", "中", "😀", "abcdefghij"];

    public static Gen<string> AnyString =>
        from count in Gen.Choose(0, 40)
        from pieces in Gen.ArrayOf(Gen.Elements(Pieces), count)
        select string.Concat(pieces);

    public static Gen<Int128> AnyInteger =>
        from kind in Gen.Choose(0, 5)
        from small in Gen.Choose(-40, 300)
        from hi in ArbMap.Default.GeneratorFor<uint>()
        from lo in ArbMap.Default.GeneratorFor<uint>()
        select kind switch
        {
            0 => (Int128)small,
            1 => (Int128)(((ulong)hi << 32) | lo),                 // full uint64 range
            2 => (Int128)(long)(((ulong)hi << 32) | lo),           // full int64 range
            3 => (Int128)(int)lo,
            4 => (Int128)(short)lo,
            _ => (Int128)ulong.MaxValue - lo,
        };

    public static Gen<MpValue> AnyScalar => Gen.OneOf(
        Gen.Constant<MpValue>(new MpNil()),
        ArbMap.Default.GeneratorFor<bool>().Select(b => (MpValue)new MpBool(b)),
        AnyInteger.Select(i => (MpValue)new MpInt(i)),
        ArbMap.Default.GeneratorFor<double>().Select(d => (MpValue)new MpFloat(d)),
        AnyString.Select(s => (MpValue)new MpStr(s)),
        Gen.Frequency((9, Gen.Choose(0, 40)), (1, Gen.Choose(200, 300))) // both sides of the bin 8 / bin 16 boundary
            .SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n)).Select(b => (MpValue)new MpBin(b)));

    /// <summary>Trees a few levels deep; containers and bins mostly small, sometimes across a format boundary.</summary>
    public static Gen<MpValue> AnyValue => Gen.Sized(size => Tree(Math.Min(size, 40)));

    private static Gen<MpValue> Tree(int size) =>
        size <= 1
            ? AnyScalar
            : Gen.Frequency(
                (3, AnyScalar),
                (1, from n in Gen.Frequency((9, Gen.Choose(0, 8)), (1, Gen.Choose(14, 18))) // around the fixarray limit
                    from items in Gen.ArrayOf(Tree(size / 3), n)
                    select (MpValue)new MpArray(items)),
                (1, from n in Gen.Choose(0, 10)
                    from keys in Gen.ArrayOf(Tree(size / 4), n)
                    from values in Gen.ArrayOf(Tree(size / 4), n)
                    select (MpValue)new MpMap([.. keys.Zip(values)])));
}

internal sealed record MpNil : MpValue
{
    public override bool SameAs(MpValue other) => other is MpNil;
}

internal sealed record MpBool(bool Value) : MpValue
{
    public override bool SameAs(MpValue other) => other is MpBool b && b.Value == Value;
}

internal sealed record MpInt(Int128 Value) : MpValue
{
    public override bool SameAs(MpValue other) => other is MpInt i && i.Value == Value;
}

internal sealed record MpFloat(double Value) : MpValue
{
    public override bool SameAs(MpValue other) => other is MpFloat f && BitConverter.DoubleToInt64Bits(f.Value) == BitConverter.DoubleToInt64Bits(Value);
}

internal sealed record MpStr(string Value) : MpValue
{
    public override bool SameAs(MpValue other) => other is MpStr s && string.Equals(s.Value, Value, StringComparison.Ordinal);
}

internal sealed record MpBin(byte[] Value) : MpValue
{
    public override bool SameAs(MpValue other) => other is MpBin b && b.Value.AsSpan().SequenceEqual(Value);
}

internal sealed record MpArray(MpValue[] Items) : MpValue
{
    public override bool SameAs(MpValue other) =>
        other is MpArray a && a.Items.Length == Items.Length && Items.Zip(a.Items).All(p => p.First.SameAs(p.Second));
}

internal sealed record MpMap((MpValue Key, MpValue Value)[] Pairs) : MpValue
{
    public override bool SameAs(MpValue other) =>
        other is MpMap m && m.Pairs.Length == Pairs.Length
        && Pairs.Zip(m.Pairs).All(p => p.First.Key.SameAs(p.Second.Key) && p.First.Value.SameAs(p.Second.Value));
}

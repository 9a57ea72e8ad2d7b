using System.Buffers;
using System.Globalization;
using MeshAgent.Core.MessagePack;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.MessagePack;

/// <summary>The spec-derived vectors: every format boundary (formats.txt) and the strict/malformed cases (noncanonical.txt).</summary>
public sealed class MessagePackVectorTests
{
    [Fact]
    public void Writer_produces_the_canonical_encoding_at_every_format_boundary()
    {
        IReadOnlyList<VectorCase> cases = VectorFile.Load("MessagePack", "formats.txt");
        Assert.True(cases.Count >= 50, $"only {cases.Count} cases loaded");
        foreach (VectorCase c in cases)
        {
            byte[] expected = Expected(c);
            var output = new ArrayBufferWriter<byte>();
            var writer = new MessagePackWriter(output);
            Write(ref writer, c);
            AssertBytes.Equal(expected, output.WrittenSpan, $"{c} ({c.Text("family")}) buffer-writer mode");

            byte[] span = new byte[expected.Length];
            var spanWriter = new MessagePackWriter(span);
            Write(ref spanWriter, c);
            Assert.Equal(expected.Length, spanWriter.BytesWritten);
            AssertBytes.Equal(expected, span, $"{c} span mode");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reader_decodes_every_format_boundary_in_both_modes(bool strict)
    {
        foreach (VectorCase c in VectorFile.Load("MessagePack", "formats.txt"))
        {
            byte[] encoding = Expected(c);
            var reader = new MessagePackReader(encoding, strict);
            string family = c.Text("family");
            switch (family)
            {
                case "nil":
                    Assert.True(reader.TryReadNil(), c.ToString());
                    break;
                case "bool":
                    Assert.True(reader.TryReadBoolean(out bool flag), c.ToString());
                    Assert.Equal(bool.Parse(c.Text("value")), flag);
                    break;
                case "int":
                    Int128 value = Int128.Parse(c.Text("value"), CultureInfo.InvariantCulture);
                    if (value >= 0)
                    {
                        Assert.True(reader.TryReadUInt64(out ulong u), c.ToString());
                        Assert.Equal((ulong)value, u);
                    }
                    else
                    {
                        Assert.False(reader.TryReadUInt64(out _), $"{c}: a negative value read as unsigned");
                        Assert.True(reader.TryReadInt64(out long l), c.ToString());
                        Assert.Equal((long)value, l);
                    }

                    break;
                case "float64":
                    Assert.True(reader.TryReadFloat64(out double d), c.ToString());
                    Assert.Equal(double.Parse(c.Text("value"), CultureInfo.InvariantCulture), d);
                    break;
                case "str":
                    Assert.True(reader.TryReadStringUtf8(out ReadOnlySpan<byte> utf8), c.ToString());
                    AssertBytes.Equal(Payload(c), utf8, c.ToString());
                    break;
                case "bin":
                    Assert.True(reader.TryReadBinary(out ReadOnlySpan<byte> bytes), c.ToString());
                    AssertBytes.Equal(Payload(c), bytes, c.ToString());
                    break;
                case "array":
                    Assert.True(reader.TryReadArrayHeader(out int count), c.ToString());
                    Assert.Equal(c.Int("length"), count);
                    for (int i = 0; i < count; i++)
                    {
                        Assert.True(reader.TryReadInt32(out int element) && element == Convert.FromHexString(c.Text("fill"))[0], $"{c} element {i}");
                    }

                    break;
                case "map":
                    Assert.True(reader.TryReadMapHeader(out count), c.ToString());
                    Assert.Equal(c.Int("length"), count);
                    for (int i = 0; i < 2 * count; i++)
                    {
                        Assert.True(reader.TrySkip(), $"{c} map item {i}");
                    }

                    break;
                default:
                    throw new InvalidOperationException($"{c}: unknown family {family}");
            }

            Assert.True(reader.End, $"{c}: {reader.Remaining} bytes left after the value");

            var skipper = new MessagePackReader(encoding, strict);
            Assert.True(skipper.TryReadRaw(out ReadOnlySpan<byte> raw), $"{c}: TryReadRaw");
            Assert.Equal(encoding.Length, raw.Length);
        }
    }

    [Fact]
    public void Strict_reader_refuses_non_canonical_encodings_that_a_lenient_reader_accepts()
    {
        int accepted = 0, rejected = 0;
        foreach (VectorCase c in VectorFile.Load("MessagePack", "noncanonical.txt"))
        {
            byte[] encoding = c.Hex("encoding");
            bool lenientAccepts = c.Text("lenient") == "accept";

            var lenient = new MessagePackReader(encoding, strict: false);
            Assert.Equal(lenientAccepts, TryReadTyped(ref lenient, c, checkValue: true));
            Assert.Equal(lenientAccepts ? encoding.Length : 0, lenient.Position);

            var strict = new MessagePackReader(encoding, strict: true);
            Assert.False(TryReadTyped(ref strict, c, checkValue: false), $"{c} ({c.Text("rule")}): strict reader accepted it");
            Assert.Equal(0, strict.Position); // a refused read does not move

            var strictSkip = new MessagePackReader(encoding, strict: true);
            Assert.False(strictSkip.TrySkip(), $"{c} ({c.Text("rule")}): strict TrySkip accepted it");
            Assert.Equal(0, strictSkip.Position);

            if (lenientAccepts)
            {
                accepted++;
                var lenientSkip = new MessagePackReader(encoding, strict: false);
                Assert.True(lenientSkip.TrySkip(), $"{c}: lenient TrySkip refused it");
            }
            else
            {
                rejected++;
            }
        }

        Assert.True(accepted >= 20 && rejected >= 15, $"vector file has {accepted} non-canonical and {rejected} malformed cases");
    }

    private static bool TryReadTyped(ref MessagePackReader reader, VectorCase c, bool checkValue)
    {
        string value = c.Text("value");
        switch (c.Text("family"))
        {
            case "int":
                Int128 expected = value.Length == 0 ? 0 : Int128.Parse(value, CultureInfo.InvariantCulture);
                if (expected >= 0)
                {
                    return reader.TryReadUInt64(out ulong u) && (!checkValue || u == (ulong)expected);
                }

                return reader.TryReadInt64(out long l) && (!checkValue || l == (long)expected);
            case "str":
                return reader.TryReadStringUtf8(out ReadOnlySpan<byte> utf8) && (!checkValue || utf8.SequenceEqual(Convert.FromHexString(value)));
            case "bin":
                return reader.TryReadBinary(out ReadOnlySpan<byte> bytes) && (!checkValue || bytes.SequenceEqual(Convert.FromHexString(value)));
            case "array":
                return reader.TryReadArrayHeader(out int count) && (!checkValue || count == int.Parse(value, CultureInfo.InvariantCulture))
                    && SkipAll(ref reader, count);
            case "map":
                return reader.TryReadMapHeader(out count) && (!checkValue || count == int.Parse(value, CultureInfo.InvariantCulture))
                    && SkipAll(ref reader, 2 * count);
            case "float64":
                return reader.TryReadFloat64(out double d) && (!checkValue || d == double.Parse(value, CultureInfo.InvariantCulture));
            default:
                throw new InvalidOperationException($"{c}: unknown family");
        }
    }

    private static bool SkipAll(ref MessagePackReader reader, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (!reader.TrySkip())
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Expected(VectorCase c) => c.Has("encoding") ? c.Hex("encoding") : [.. c.Hex("header"), .. LongPayload(c)];

    private static byte[] Payload(VectorCase c) => c.Has("utf8") ? c.Hex("utf8") : c.Has("data") ? c.Hex("data") : LongPayload(c);

    private static byte[] LongPayload(VectorCase c)
    {
        int length = c.Int("length");
        byte fill = c.Hex("fill")[0];
        int count = c.Text("family") == "map" ? 2 * length : length;
        return Enumerable.Repeat(fill, count).ToArray();
    }

    private static void Write(ref MessagePackWriter writer, VectorCase c)
    {
        switch (c.Text("family"))
        {
            case "nil":
                writer.WriteNil();
                break;
            case "bool":
                writer.WriteBoolean(bool.Parse(c.Text("value")));
                break;
            case "int":
                Int128 value = Int128.Parse(c.Text("value"), CultureInfo.InvariantCulture);
                if (value >= 0)
                {
                    writer.WriteUInt64((ulong)value);
                }
                else
                {
                    writer.WriteInt64((long)value);
                }

                // The signed entry point must give the same bytes for every value it can hold.
                if (value <= long.MaxValue)
                {
                    byte[] viaInt64 = new byte[9];
                    var other = new MessagePackWriter(viaInt64);
                    other.WriteInt64((long)value);
                    AssertBytes.Equal(Expected(c), other.WrittenSpan, $"{c} via WriteInt64");
                }

                break;
            case "float64":
                writer.WriteFloat64(double.Parse(c.Text("value"), CultureInfo.InvariantCulture));
                break;
            case "str":
                byte[] utf8 = Payload(c);
                writer.WriteStringUtf8(utf8);
                byte[] viaChars = new byte[utf8.Length + 5];
                var charWriter = new MessagePackWriter(viaChars);
                charWriter.WriteString(System.Text.Encoding.UTF8.GetString(utf8));
                AssertBytes.Equal(Expected(c), charWriter.WrittenSpan, $"{c} via WriteString(chars)");
                break;
            case "bin":
                writer.WriteBinary(Payload(c));
                break;
            case "array":
                writer.WriteArrayHeader(c.Int("length"));
                writer.WriteRawUnchecked(LongPayload(c));
                break;
            case "map":
                writer.WriteMapHeader(c.Int("length"));
                writer.WriteRawUnchecked(LongPayload(c));
                break;
            default:
                throw new InvalidOperationException($"{c}: unknown family");
        }
    }
}

using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Tests.MessagePack;

/// <summary>Round-trip and robustness properties of the MessagePack codec (STYLE rule 9).</summary>
public sealed class MessagePackPropertyTests
{
    private static FsCheck.Config Config(int maxTest = 500) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    private static Gen<byte[]> RandomBytes =>
        from length in Gen.Choose(0, 200)
        from bytes in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), length)
        select bytes;

    [Fact]
    public void Any_value_round_trips_through_strict_and_lenient_readers_and_re_encodes_to_the_same_bytes()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(MpValue.AnyValue), (MpValue value) =>
        {
            byte[] encoded = MpValue.Encode(value);
            foreach (bool strict in new[] { true, false })
            {
                var reader = new MessagePackReader(encoded, strict);
                Assert.True(MpValue.TryRead(ref reader, out MpValue? decoded), $"strict={strict}: could not decode {Convert.ToHexString(encoded)}");
                Assert.True(reader.End);
                Assert.True(value.SameAs(decoded!), $"strict={strict}: decoded {decoded} from {value}");
                Assert.Equal(encoded, MpValue.Encode(decoded!));
            }

            var skipper = new MessagePackReader(encoded, strict: true);
            Assert.True(skipper.TryReadRaw(out ReadOnlySpan<byte> raw));
            Assert.Equal(encoded.Length, raw.Length);
        }));
    }

    [Fact]
    public void Span_mode_writes_the_same_bytes_and_throws_when_one_byte_short()
    {
        Check.One(Config(300), Prop.ForAll(Arb.From(MpValue.AnyValue), (MpValue value) =>
        {
            byte[] expected = MpValue.Encode(value);
            byte[] exact = new byte[expected.Length];
            var writer = new MessagePackWriter(exact);
            MpValue.Write(ref writer, value);
            Assert.Equal(expected, exact);
            Assert.Equal(0, writer.FreeCapacity);

            byte[] shortBuffer = new byte[expected.Length - 1];
            Assert.Throws<InvalidOperationException>(() =>
            {
                var w = new MessagePackWriter(shortBuffer);
                MpValue.Write(ref w, value);
            });
        }));
    }

    [Fact]
    public void No_reader_method_throws_on_random_bytes_and_refusals_do_not_move()
    {
        Check.One(Config(5000), Prop.ForAll(Arb.From(RandomBytes), (byte[] input) =>
        {
            foreach (bool strict in new[] { true, false })
            {
                ExerciseEveryRead(input, strict);
                var generic = new MessagePackReader(input, strict);
                while (!generic.End && MpValue.TryRead(ref generic, out _))
                {
                }
            }
        }));
    }

    [Fact]
    public void Mutated_encodings_never_throw_and_whatever_strict_mode_accepts_is_canonical()
    {
        Gen<byte[]> mutated =
            from value in MpValue.AnyValue
            from flips in Gen.ListOf(Gen.Choose(0, 1 << 20), 3)
            from cut in Gen.Choose(0, 4)
            select Mutate(MpValue.Encode(value), flips, cut);

        Check.One(Config(3000), Prop.ForAll(Arb.From(mutated), (byte[] input) =>
        {
            ExerciseEveryRead(input, strict: false);
            ExerciseEveryRead(input, strict: true);
            var reader = new MessagePackReader(input, strict: true);
            if (MpValue.TryRead(ref reader, out MpValue? value) && reader.End)
            {
                // One value, one encoding: strict acceptance means re-encoding reproduces the input.
                Assert.Equal(input, MpValue.Encode(value!));
            }
        }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(MessagePackReader.DefaultMaxDepth)]
    public void TrySkip_enters_at_most_maxDepth_nested_containers(int maxDepth)
    {
        byte[] nested = Nested(maxDepth, terminal: 0x01);
        var reader = new MessagePackReader(nested, maxDepth: maxDepth);
        Assert.True(reader.TrySkip());
        Assert.True(reader.End);

        byte[] tooDeep = Nested(maxDepth + 1, terminal: 0x01);
        var refused = new MessagePackReader(tooDeep, maxDepth: maxDepth);
        Assert.False(refused.TrySkip());
        Assert.Equal(0, refused.Position);

        // Empty containers count as levels too.
        var emptyInnermost = new MessagePackReader(Nested(maxDepth, terminal: 0x90), maxDepth: maxDepth);
        Assert.False(emptyInnermost.TrySkip());
    }

    [Fact]
    public void A_million_nested_arrays_are_refused_without_recursion()
    {
        byte[] bomb = Nested(1_000_000, terminal: 0xc0);
        var reader = new MessagePackReader(bomb, strict: true, maxDepth: MessagePackReader.MaxDepthLimit);
        Assert.False(reader.TryReadRaw(out _));
        Assert.Equal(0, reader.Position);
    }

    [Fact]
    public void Header_counts_are_checked_against_the_remaining_bytes()
    {
        // fixarray(3) with exactly three one-byte elements: fine; with two: refused at the header.
        var fits = new MessagePackReader([0x93, 0x01, 0x02, 0x03]);
        Assert.True(fits.TryReadArrayHeader(out int count));
        Assert.Equal(3, count);

        var lies = new MessagePackReader([0x93, 0x01, 0x02]);
        Assert.False(lies.TryReadArrayHeader(out _));

        // fixmap(2) needs at least four bytes after the header.
        Assert.False(new MessagePackReader([0x82, 0x01, 0x02, 0x03]).TryReadMapHeader(out _));
        Assert.True(new MessagePackReader([0x82, 0x01, 0x02, 0x03, 0x04]).TryReadMapHeader(out _));
    }

    private static byte[] Nested(int depth, byte terminal)
    {
        byte[] bytes = new byte[depth + 1];
        bytes.AsSpan(0, depth).Fill(0x91); // fixarray(1)
        bytes[depth] = terminal;
        return bytes;
    }

    private static byte[] Mutate(byte[] encoded, IEnumerable<int> flips, int cut)
    {
        byte[] copy = (byte[])encoded.Clone();
        if (copy.Length > 0)
        {
            foreach (int flip in flips)
            {
                int bit = flip % (copy.Length * 8);
                copy[bit >> 3] ^= (byte)(1 << (bit & 7));
            }
        }

        return copy[..Math.Max(0, copy.Length - cut)];
    }

    /// <summary>
    /// Every typed read at every position (every 7th beyond 256 bytes, to stay linear-ish); a refused read
    /// must leave the position unchanged.
    /// </summary>
    private static void ExerciseEveryRead(byte[] input, bool strict)
    {
        for (int start = 0; start < input.Length; start += start < 256 ? 1 : 7)
        {
            var at = new MessagePackReader(input.AsSpan(start), strict);
            _ = at.TryPeekType(out _);
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadNil());
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadBoolean(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadInt64(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadUInt64(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadInt32(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadUInt32(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadFloat64(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadString(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadStringUtf8(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadBinary(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadArrayHeader(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadMapHeader(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TryReadRaw(out _));
            Attempt(ref at, static (ref MessagePackReader r) => r.TrySkip());
        }
    }

    private delegate bool ReadAttempt(ref MessagePackReader reader);

    private static void Attempt(ref MessagePackReader template, ReadAttempt attempt)
    {
        MessagePackReader reader = template; // a fresh copy at the same position
        int before = reader.Position;
        if (!attempt(ref reader))
        {
            Assert.Equal(before, reader.Position);
        }
        else
        {
            Assert.True(reader.Position > before, "a successful read consumed nothing");
        }
    }
}

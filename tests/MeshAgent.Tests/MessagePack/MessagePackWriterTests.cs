using System.Buffers;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Tests.MessagePack;

public sealed class MessagePackWriterTests
{
    [Fact]
    public void Lone_surrogates_and_invalid_utf8_are_refused_rather_than_silently_replaced()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.ThrowsAny<ArgumentException>(() => new MessagePackWriter(output).WriteString("a\ud800b"));
        Assert.ThrowsAny<ArgumentException>(() => new MessagePackWriter(output).WriteStringUtf8([0x61, 0xc3, 0x28]));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Negative_container_counts_are_caller_bugs()
    {
        byte[] buffer = new byte[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessagePackWriter(buffer).WriteArrayHeader(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessagePackWriter(buffer).WriteMapHeader(-1));
    }

    [Fact]
    public void A_copy_of_the_writer_is_a_save_point_in_span_mode()
    {
        byte[] buffer = new byte[64];
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.WriteUInt64(1);
        MessagePackWriter saved = writer;
        writer.WriteString("an entry we decide to drop");
        Assert.Equal(saved.BytesWritten + 27, writer.BytesWritten);
        writer = saved;
        writer.WriteUInt64(2);
        Assert.Equal(new byte[] { 0x92, 0x01, 0x02 }, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Overflow_message_names_the_sizes()
    {
        byte[] buffer = new byte[4];
        var e = Assert.Throws<InvalidOperationException>(() => new MessagePackWriter(buffer).WriteBinary(new byte[10]));
        Assert.Contains("12 more bytes", e.Message);
        Assert.Contains("4-byte destination", e.Message);
    }

    [Fact]
    public void Buffer_writer_mode_advances_after_every_value()
    {
        var output = new ArrayBufferWriter<byte>(1);
        var writer = new MessagePackWriter(output);
        writer.WriteMapHeader(1);
        Assert.Equal(1, output.WrittenCount);
        writer.WriteUInt64(300);
        writer.WriteString("x");
        Assert.Equal(writer.BytesWritten, output.WrittenCount);
        Assert.Equal(new byte[] { 0x81, 0xcd, 0x01, 0x2c, 0xa1, 0x78 }, output.WrittenSpan.ToArray());
        Assert.True(writer.WrittenSpan.IsEmpty);
    }
}

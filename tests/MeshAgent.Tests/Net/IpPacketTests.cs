using System.Buffers.Binary;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using Xunit;

namespace MeshAgent.Tests.Net;

public class IpPacketTests
{
    /// <summary>A minimal IPv4 header (RFC 791 §3.1) plus <paramref name="payload"/> zero bytes.</summary>
    internal static byte[] IPv4(string source, string destination, int payload = 0)
    {
        var packet = new byte[20 + payload];
        packet[0] = 0x45; // version 4, IHL 5
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12, 4), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16, 4), out _);
        return packet;
    }

    /// <summary>A minimal IPv6 header (RFC 8200 §3) plus <paramref name="payload"/> zero bytes.</summary>
    internal static byte[] IPv6(string source, string destination, int payload = 0)
    {
        var packet = new byte[40 + payload];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)payload);
        packet[6] = 17;
        packet[7] = 64;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8, 16), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24, 16), out _);
        return packet;
    }

    [Fact]
    public void ReadsIPv4Addresses()
    {
        byte[] packet = IPv4("10.0.0.1", "192.168.1.2", payload: 8);
        Assert.True(IpPacket.TryGetVersion(packet, out int version));
        Assert.Equal(4, version);
        Assert.True(IpPacket.TryGetSource(packet, out ReadOnlySpan<byte> source));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), new IPAddress(source));
        Assert.True(IpPacket.TryGetDestination(packet, out ReadOnlySpan<byte> destination));
        Assert.Equal(IPAddress.Parse("192.168.1.2"), new IPAddress(destination));
        Assert.True(IpPacket.TryGetTotalLength(packet, out int length));
        Assert.Equal(28, length);
    }

    [Fact]
    public void ReadsIPv6Addresses()
    {
        byte[] packet = IPv6("fd00::1", "2001:db8::2", payload: 12);
        Assert.True(IpPacket.TryGetVersion(packet, out int version));
        Assert.Equal(6, version);
        Assert.True(IpPacket.TryGetSource(packet, out ReadOnlySpan<byte> source));
        Assert.Equal(IPAddress.Parse("fd00::1"), new IPAddress(source));
        Assert.True(IpPacket.TryGetDestination(packet, out ReadOnlySpan<byte> destination));
        Assert.Equal(IPAddress.Parse("2001:db8::2"), new IPAddress(destination));
        Assert.True(IpPacket.TryGetTotalLength(packet, out int length));
        Assert.Equal(52, length);
    }

    [Fact]
    public void AddressSpansAreBorrowedFromThePacket()
    {
        byte[] packet = IPv4("10.0.0.1", "10.0.0.2");
        IpPacket.TryGetDestination(packet, out ReadOnlySpan<byte> destination);
        packet[19] = 99;
        Assert.Equal(99, destination[3]);
    }

    [Fact]
    public void TruncatedHeadersAreRejected()
    {
        byte[] v4 = IPv4("10.0.0.1", "10.0.0.2");
        byte[] v6 = IPv6("fd00::1", "fd00::2");
        for (int length = 0; length < 20; length++)
        {
            Assert.False(IpPacket.TryGetVersion(v4.AsSpan(0, length), out _));
            Assert.False(IpPacket.TryGetSource(v4.AsSpan(0, length), out _));
            Assert.False(IpPacket.TryGetDestination(v4.AsSpan(0, length), out ReadOnlySpan<byte> address));
            Assert.True(address.IsEmpty);
        }

        for (int length = 0; length < 40; length++)
        {
            Assert.False(IpPacket.TryGetSource(v6.AsSpan(0, length), out _));
            Assert.False(IpPacket.TryGetDestination(v6.AsSpan(0, length), out _));
        }
    }

    [Theory]
    [InlineData(0x44)] // IHL 4: header cannot hold the addresses
    [InlineData(0x40)]
    [InlineData(0x55)] // version 5
    [InlineData(0x05)] // version 0
    [InlineData(0xF5)]
    public void WrongVersionOrIhlIsRejected(byte firstByte)
    {
        byte[] packet = IPv6("fd00::1", "fd00::2");
        packet[0] = firstByte;
        Assert.False(IpPacket.TryGetVersion(packet, out int version));
        Assert.Equal(0, version);
        Assert.False(IpPacket.TryGetDestination(packet, out _));
    }

    [Fact]
    public void TotalLengthMustFitTheBuffer()
    {
        byte[] v4 = IPv4("10.0.0.1", "10.0.0.2", payload: 12);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), 33);
        Assert.False(IpPacket.TryGetTotalLength(v4, out _));
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), 19);
        Assert.False(IpPacket.TryGetTotalLength(v4, out _));
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), 24);
        Assert.True(IpPacket.TryGetTotalLength(v4, out int trimmed));
        Assert.Equal(24, trimmed);

        byte[] v6 = IPv6("fd00::1", "fd00::2", payload: 4);
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(4), 5);
        Assert.False(IpPacket.TryGetTotalLength(v6, out _));
    }

    [Fact]
    public void ArbitraryBytesNeverThrowAndAddressesComeFromTheFixedOffsets()
    {
        Gen<byte[]> packets = Gen.OneOf(
            ArbMap.Default.GeneratorFor<byte[]>(),
            from first in Gen.Elements<byte>(0x45, 0x46, 0x4F, 0x60, 0x6F, 0x44)
            from rest in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
            select (byte[])[first, .. rest]);

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(packets.ToArbitrary(), packet =>
        {
            bool hasVersion = IpPacket.TryGetVersion(packet, out int version);
            bool hasSource = IpPacket.TryGetSource(packet, out ReadOnlySpan<byte> source);
            bool hasDestination = IpPacket.TryGetDestination(packet, out ReadOnlySpan<byte> destination);
            IpPacket.TryGetTotalLength(packet, out int total);
            if (!hasVersion)
            {
                return !hasSource && !hasDestination && total == 0;
            }

            int offset = version == 4 ? 12 : 8;
            int size = version == 4 ? 4 : 16;
            return hasSource && hasDestination
                && source.SequenceEqual(packet.AsSpan(offset, size))
                && destination.SequenceEqual(packet.AsSpan(offset + size, size))
                && total <= packet.Length;
        }));
    }
}

using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Engine.Mesh;

namespace MeshAgent.Tests.Mesh;

/// <summary>The mesh control-frame envelope: type ‖ length (big-endian) ‖ body, padding after it ignored.</summary>
public sealed class ControlFrameTests
{
    [Fact]
    public void Write_lays_out_type_length_and_both_parts_and_reads_back_with_padding()
    {
        byte[] key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        byte[] datagram = [0x04, 0, 0, 0, 0xAA, 0xBB];
        byte[] buffer = new byte[64];
        int n = ControlFrame.Write(buffer, ControlFrameType.PeerRelay, key, datagram);
        Assert.Equal(3 + 32 + 6, n);
        Assert.Equal("07" + "0026", Convert.ToHexString(buffer, 0, 3));
        Assert.Equal(ControlFrame.Create(ControlFrameType.PeerRelay, key, datagram), buffer[..n]);

        // WireGuard pads payloads with zeros to a multiple of 16: the length field bounds the body.
        Assert.True(ControlFrame.TryRead(buffer.AsSpan(0, 48), out ControlFrameType type, out ReadOnlySpan<byte> body));
        Assert.Equal(ControlFrameType.PeerRelay, type);
        Assert.Equal([.. key, .. datagram], body.ToArray());
        Assert.Throws<ArgumentException>(() => ControlFrame.Write(new byte[n - 1], ControlFrameType.PeerRelayed, key, datagram));
    }

    [Fact]
    public void Arbitrary_bytes_never_throw_and_a_length_beyond_the_payload_is_refused()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>())), (byte[] bytes) =>
        {
            bool ok = ControlFrame.TryRead(bytes, out _, out ReadOnlySpan<byte> body);
            return !ok || body.Length == ((bytes[1] << 8) | bytes[2]);
        }));
        Assert.False(ControlFrame.TryRead([0x08, 0x00, 0x05, 1, 2, 3, 4], out _, out _));
    }
}

using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Paths;

/// <summary>The path control-frame codec: the layout in its doc comment byte by byte, round trips, and no exception on any input.</summary>
public sealed class PathFrameTests
{
    private static readonly byte[] TxIdBytes = Convert.FromHexString("000102030405060708090a0b");

    [Fact]
    public void Layouts_match_the_documented_diagrams()
    {
        var txid = new PathTxId(TxIdBytes);
        byte[] buffer = new byte[PathFrame.CallMeMaybeMaxSize];

        int n = PathFrame.WritePing(buffer, new PathPing(txid, 0x0102030405060708));
        Assert.Equal("01" + "000102030405060708090A0B" + "0102030405060708", Convert.ToHexString(buffer, 0, n));

        n = PathFrame.WritePong(buffer, new PathPong(txid, new UdpEndpoint(IPAddress.Parse("203.0.113.10"), 41641)));
        Assert.Equal("02" + "000102030405060708090A0B" + "04" + "CB00710A" + "A2A9", Convert.ToHexString(buffer, 0, n));

        n = PathFrame.WritePong(buffer, new PathPong(txid, new UdpEndpoint(IPAddress.Parse("2001:db8::1"), 3478)));
        Assert.Equal("02" + "000102030405060708090A0B" + "06" + "20010DB8000000000000000000000001" + "0D96", Convert.ToHexString(buffer, 0, n));
        Assert.Equal(PathFrame.PongMaxSize, n);

        var message = new CallMeMaybe(
            [PathCandidate.Local(new UdpEndpoint(IPAddress.Parse("10.1.0.10"), 41641)), PathCandidate.Reflexive(new UdpEndpoint(IPAddress.Parse("203.0.113.10"), 41641))],
            ProbePorts: 256,
            Nat: NatMapping.EndpointDependent);
        n = PathFrame.WriteCallMeMaybe(buffer, message);
        Assert.Equal("03" + "0100" + "02" + "01" + "04" + "0A01000A" + "A2A9" + "02" + "04" + "CB00710A" + "A2A9" + "03", Convert.ToHexString(buffer, 0, n));
    }

    [Fact]
    public void Every_message_round_trips_and_trailing_bytes_are_ignored()
    {
        Gen<UdpEndpoint> endpoints =
            from v6 in Gen.Elements(false, true)
            from bytes in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), v6 ? 16 : 4)
            from port in Gen.Choose(0, 65535)
            select new UdpEndpoint(new IPAddress(bytes), port);
        Gen<PathTxId> txids = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), PathTxId.Size).Select(b => new PathTxId(b));
        Gen<byte[]> trailers = Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));
        Gen<PathCandidate> candidates =
            from kind in Gen.Elements(PathCandidateKind.Local, PathCandidateKind.Reflexive, PathCandidateKind.Mapped, PathCandidateKind.PeerReflexive)
            from endpoint in endpoints
            select new PathCandidate(kind, PathAddress.Direct(endpoint));
        Gen<CallMeMaybe> calls =
            from count in Gen.Choose(0, PathFrame.CallMeMaybeMaxCandidates)
            from list in Gen.ArrayOf(candidates, count)
            from ports in Gen.Choose(0, 65535)
            from nat in Gen.Elements(Enum.GetValues<NatMapping>())
            select new CallMeMaybe(list, ports, nat);

        byte[] buffer = new byte[PathFrame.CallMeMaybeMaxSize + 8];
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(from t in txids from at in ArbMap.Default.GeneratorFor<ulong>() from trailer in trailers select (t, at, trailer)), t =>
        {
            var ping = new PathPing(t.Item1, t.Item2);
            int n = PathFrame.WritePing(buffer, ping);
            t.Item3.CopyTo(buffer, n);
            return PathFrame.TryReadPing(buffer.AsSpan(0, n + t.Item3.Length), out PathPing read) && read == ping
                && PathFrame.TryReadType(buffer.AsSpan(0, n), out PathMessageType type) && type == PathMessageType.Ping;
        }));
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(from t in txids from e in endpoints from trailer in trailers select (t, e, trailer)), t =>
        {
            var pong = new PathPong(t.Item1, t.Item2);
            int n = PathFrame.WritePong(buffer, pong);
            t.Item3.CopyTo(buffer, n);
            return PathFrame.TryReadPong(buffer.AsSpan(0, n + t.Item3.Length), out PathPong read) && read == pong;
        }));
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(from c in calls from trailer in trailers select (c, trailer)), t =>
        {
            int n = PathFrame.WriteCallMeMaybe(buffer, t.Item1);
            t.Item2.CopyTo(buffer, n);
            return PathFrame.TryReadCallMeMaybe(buffer.AsSpan(0, n + t.Item2.Length), out CallMeMaybe? read)
                && read!.ProbePorts == t.Item1.ProbePorts && read.Nat == t.Item1.Nat && read.Candidates.SequenceEqual(t.Item1.Candidates);
        }));
    }

    [Fact]
    public void Every_truncation_of_a_valid_frame_is_rejected()
    {
        byte[] buffer = new byte[PathFrame.CallMeMaybeMaxSize];
        var txid = new PathTxId(TxIdBytes);
        int ping = PathFrame.WritePing(buffer, new PathPing(txid, 7));
        for (int n = 0; n < ping; n++)
        {
            Assert.False(PathFrame.TryReadPing(buffer.AsSpan(0, n), out _));
        }

        int pong = PathFrame.WritePong(buffer, new PathPong(txid, new UdpEndpoint(IPAddress.Parse("2001:db8::1"), 1)));
        for (int n = 0; n < pong; n++)
        {
            Assert.False(PathFrame.TryReadPong(buffer.AsSpan(0, n), out _));
        }

        int call = PathFrame.WriteCallMeMaybe(buffer, new CallMeMaybe([PathCandidate.Local(new UdpEndpoint(IPAddress.Parse("2001:db8::1"), 1)), PathCandidate.Reflexive(new UdpEndpoint(IPAddress.Loopback, 2))], Nat: NatMapping.None));
        for (int n = 0; n < call - 1; n++)
        {
            Assert.False(PathFrame.TryReadCallMeMaybe(buffer.AsSpan(0, n), out _));
        }
    }

    [Fact]
    public void A_call_me_maybe_without_the_appended_nat_byte_or_with_an_unknown_value_reads_as_unknown()
    {
        // An older sender's frame ends after the candidates; a newer one's value this reader does not know.
        byte[] old = Convert.FromHexString("03" + "0000" + "01" + "02" + "04" + "CB00710A" + "A2A9");
        Assert.True(PathFrame.TryReadCallMeMaybe(old, out CallMeMaybe? message));
        Assert.Equal(NatMapping.Unknown, message!.Nat);
        Assert.Single(message.Candidates);

        Assert.True(PathFrame.TryReadCallMeMaybe([.. old, 0x2A], out message));
        Assert.Equal(NatMapping.Unknown, message!.Nat);
        Assert.True(PathFrame.TryReadCallMeMaybe([.. old, 0x02], out message));
        Assert.Equal(NatMapping.EndpointIndependent, message!.Nat);
    }

    [Fact]
    public void Arbitrary_bytes_never_throw_and_bad_fields_are_rejected()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>())), (byte[] bytes) =>
        {
            PathFrame.TryReadType(bytes, out _);
            PathFrame.TryReadPing(bytes, out _);
            PathFrame.TryReadPong(bytes, out _);
            PathFrame.TryReadCallMeMaybe(bytes, out _);
            return true;
        }));

        byte[] badFamily = Convert.FromHexString("02" + "000102030405060708090A0B" + "05" + "CB00710A" + "A2A9");
        Assert.False(PathFrame.TryReadPong(badFamily, out _));
        byte[] relayKind = Convert.FromHexString("03" + "0000" + "01" + "05" + "04" + "CB00710A" + "A2A9");
        Assert.False(PathFrame.TryReadCallMeMaybe(relayKind, out _));
        byte[] tooMany = Convert.FromHexString("03" + "0000" + "11");
        Assert.False(PathFrame.TryReadCallMeMaybe(tooMany, out _));
        Assert.False(PathFrame.TryReadType([9], out _));
        Assert.False(PathFrame.TryReadPing(Convert.FromHexString("02" + "000102030405060708090A0B" + "0102030405060708"), out _)); // a pong's type byte
    }

    [Fact]
    public void Writing_rejects_what_cannot_be_encoded()
    {
        byte[] buffer = new byte[PathFrame.CallMeMaybeMaxSize];
        var endpoint = new UdpEndpoint(IPAddress.Loopback, 1);
        Assert.Throws<ArgumentException>(() => PathFrame.WriteCallMeMaybe(buffer, new CallMeMaybe(Enumerable.Repeat(PathCandidate.Local(endpoint), 17).ToArray())));
        Assert.Throws<ArgumentException>(() => PathFrame.WriteCallMeMaybe(buffer, new CallMeMaybe([PathCandidate.Relay("r")])));
        Assert.Throws<ArgumentException>(() => PathFrame.WriteCallMeMaybe(buffer, new CallMeMaybe([], ProbePorts: 70000)));
        Assert.Throws<ArgumentException>(() => PathFrame.WritePing(new byte[PathFrame.PingSize - 1], default));
        Assert.Throws<ArgumentException>(() => PathFrame.WritePong(new byte[20], default));
    }
}

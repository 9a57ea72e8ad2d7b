using System.Net;
using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.Engine;

/// <summary>
/// The protocol engine, two devices in one process (STYLE rule 9: in-process multi-node):
/// handshake, key confirmation, data both ways, timers, rekey, cookies, replay and rejection.
/// </summary>
public sealed class WireGuardDeviceTests
{
    /// <summary>An IPv4-shaped packet (version and total length set) so padding can be stripped.</summary>
    private static byte[] Packet(int length, byte fill)
    {
        var packet = new byte[length];
        packet.AsSpan().Fill(fill);
        packet[0] = 0x45;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)length);
        return packet;
    }

    [Fact]
    public void Handshake_completes_and_data_flows_both_ways()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();

        Assert.Single(pair.DeliveredToB);
        Assert.Equal(Packet(100, 1), pair.DeliveredToB[0]);
        Assert.Equal(1, pair.A.Counters.HandshakesCompleted);
        Assert.Equal(1, pair.B.Counters.HandshakesCompleted);
        Assert.NotNull(pair.PeerBOnA.Current);
        Assert.NotNull(pair.PeerAOnB.Current);

        pair.B.SendPacket(pair.PeerAOnB, Packet(1400, 2));
        pair.Pump();
        Assert.Single(pair.DeliveredToA);
        Assert.Equal(Packet(1400, 2), pair.DeliveredToA[0]);
    }

    [Fact]
    public void Wire_messages_have_WireGuard_sizes_and_padding()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(17, 9));
        pair.Pump();

        Assert.Equal(148, pair.NetA.Sent[0].Length);   // initiation
        Assert.Equal(1, pair.NetA.Sent[0][0]);
        Assert.Equal(92, pair.NetB.Sent[0].Length);    // response
        Assert.Equal(2, pair.NetB.Sent[0][0]);
        // The staged 17-byte packet goes out padded to 32: 16 header + 32 + 16 tag.
        Assert.Equal(64, pair.NetA.Sent[1].Length);
        Assert.Equal(4, pair.NetA.Sent[1][0]);
    }

    [Fact]
    public void Responder_waits_for_key_confirmation_before_sending()
    {
        using var pair = new DevicePair();
        // Drop everything A sends after the initiation: B has keys in "next" only.
        int fromA = 0;
        pair.Filter = (from, datagram) => !from.Equals(DevicePair.EndpointA) || fromA++ == 0;
        pair.A.SendPacket(pair.PeerBOnA, Packet(60, 3));
        pair.Pump();

        Assert.Null(pair.PeerAOnB.Current);
        pair.B.SendPacket(pair.PeerAOnB, Packet(60, 4));
        // B must not have sent a transport message on unconfirmed keys.
        Assert.DoesNotContain(pair.NetB.Sent, d => d[0] == 4);

        // Once A's data arrives, B promotes the keys and flushes what it staged.
        pair.Filter = null;
        pair.A.SendPacket(pair.PeerBOnA, Packet(60, 5));
        pair.Pump();
        Assert.NotNull(pair.PeerAOnB.Current);
        Assert.Contains(pair.DeliveredToA, p => p[1] == 4);
    }

    [Fact]
    public void Initiator_sends_a_keepalive_at_once_for_key_confirmation()
    {
        using var pair = new DevicePair();
        pair.A.SendHandshakeInitiation(pair.PeerBOnA, isRetry: false);
        pair.Pump();
        Assert.Contains(pair.NetA.Sent, d => d.Length == 32 && d[0] == 4);
        Assert.NotNull(pair.PeerAOnB.Current);
    }

    [Fact]
    public void Rekey_after_time_starts_a_second_handshake_and_traffic_continues()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();
        Keypair first = pair.PeerBOnA.Current!;

        pair.Time.Advance(WireGuardConstants.RekeyAfterTime + TimeSpan.FromSeconds(1));
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 2));
        pair.Pump();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 3));
        pair.Pump();

        Assert.Equal(2, pair.A.Counters.HandshakesCompleted);
        Assert.NotSame(first, pair.PeerBOnA.Current);
        Assert.Equal(3, pair.DeliveredToB.Count);
    }

    [Fact]
    public void Keys_are_rejected_after_reject_after_time()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();

        // Seal a packet now, deliver it after REJECT_AFTER_TIME: it must be dropped.
        var buffer = new byte[256];
        Packet(100, 7).CopyTo(buffer, 16);
        Assert.Equal(SealStatus.Sealed, pair.A.TrySeal(pair.PeerBOnA, buffer, 100, 1420, out int length));
        pair.Time.Advance(WireGuardConstants.RejectAfterTime);
        InboundResult result = pair.Deliver(DevicePair.EndpointA, buffer[..length]);
        Assert.Equal(DropReason.ExpiredKeypair, result.Drop);
    }

    [Fact]
    public void Replayed_transport_packet_is_dropped()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();
        byte[] data = pair.NetA.Sent.Last(d => d[0] == 4 && d.Length > 32);

        InboundResult replay = pair.Deliver(DevicePair.EndpointA, data);
        Assert.Equal(InboundKind.Dropped, replay.Kind);
        Assert.Equal(DropReason.DecryptFailed, replay.Drop);
    }

    [Fact]
    public void Replayed_initiation_is_dropped_by_its_timestamp()
    {
        using var pair = new DevicePair();
        pair.A.SendHandshakeInitiation(pair.PeerBOnA, isRetry: false);
        byte[] initiation = pair.NetA.Sent[0];
        pair.Pump();
        pair.Time.Advance(TimeSpan.FromSeconds(1));

        InboundResult replay = pair.Deliver(DevicePair.EndpointA, initiation);
        Assert.Equal(DropReason.ReplayedTimestamp, replay.Drop);
    }

    [Fact]
    public void Initiation_with_bad_mac1_or_from_unknown_key_gets_no_response()
    {
        using var pair = new DevicePair();
        pair.A.SendHandshakeInitiation(pair.PeerBOnA, isRetry: false);
        byte[] initiation = pair.NetA.Sent[0];
        pair.InFlight.Clear();

        byte[] badMac = (byte[])initiation.Clone();
        badMac[120] ^= 1;
        Assert.Equal(DropReason.BadMac1, pair.Deliver(DevicePair.EndpointA, badMac).Drop);

        // A stranger that knows B's public key (so mac1 is right) but is not B's peer.
        using var stranger = new DevicePair();
        var strangerDevice = new WireGuardDevice(new WireGuardDeviceOptions { PrivateKey = DevicePair.NewKey(), Time = pair.Time }, stranger.NetA);
        Peer towardsB = strangerDevice.AddPeer(pair.B.PublicKey, default, DevicePair.EndpointB);
        strangerDevice.SendHandshakeInitiation(towardsB, isRetry: false);
        byte[] strangerInitiation = stranger.NetA.Sent.Last();
        Assert.Equal(DropReason.UnknownPeer, pair.B.ReceiveOutside((byte[])strangerInitiation.Clone(), DevicePair.EndpointA).Drop);
        Assert.Empty(pair.NetB.Sent);
        strangerDevice.Dispose();
    }

    [Fact]
    public void Mismatched_preshared_key_gets_no_session()
    {
        var time = new MeshAgent.Tests.Support.ManualTimeProvider();
        using var pair = new DevicePair(psk: null, time);
        var psk = new byte[32];
        psk[0] = 1;
        pair.PeerBOnA.SetPresharedKey(psk);
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();
        Assert.Equal(0, pair.A.Counters.HandshakesCompleted);
        Assert.Empty(pair.DeliveredToB);
        Assert.Equal(1, pair.A.Counters[DropReason.HandshakeInvalid]);
    }

    [Fact]
    public void Under_load_an_initiation_without_mac2_gets_a_cookie_and_the_retry_succeeds()
    {
        using var pair = new DevicePair();
        pair.B.ForceUnderLoad = true;
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();

        Assert.Equal(1, pair.B.Counters.CookieRepliesSent);
        Assert.Equal(1, pair.B.Counters[DropReason.CookieRequired]);
        Assert.Equal(0, pair.B.Counters.HandshakesCompleted);
        Assert.Contains(pair.NetB.Sent, d => d.Length == 64 && d[0] == 3);

        // The retransmit after REKEY_TIMEOUT carries mac2 from the cookie and is accepted.
        pair.Time.Advance(WireGuardConstants.RekeyTimeout + TimeSpan.FromMilliseconds(1));
        pair.Pump();
        Assert.Equal(1, pair.B.Counters.HandshakesCompleted);
        Assert.Single(pair.DeliveredToB);
    }

    [Fact]
    public void Handshake_is_retried_every_rekey_timeout_and_abandoned_after_rekey_attempt_time()
    {
        using var pair = new DevicePair();
        pair.Filter = (_, _) => false; // the network eats everything
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);

        for (int i = 0; i < 30; i++)
        {
            pair.Time.Advance(WireGuardConstants.RekeyTimeout + TimeSpan.FromMilliseconds(1));
            pair.Pump();
        }

        // 1 + 18 retries (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT), then silence.
        Assert.Equal(19, pair.A.Counters.HandshakeInitiationsSent);
        Assert.Equal(0, pair.PeerBOnA.StagedCount);
    }

    [Fact]
    public void Passive_keepalive_follows_received_data_after_keepalive_timeout()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();
        int sentByB = pair.NetB.Sent.Count;

        pair.Time.Advance(WireGuardConstants.KeepaliveTimeout + TimeSpan.FromMilliseconds(1));
        pair.Pump();
        Assert.Contains(pair.NetB.Sent.Skip(sentByB), d => d.Length == 32 && d[0] == 4);
    }

    [Fact]
    public void Persistent_keepalive_is_sent_on_schedule()
    {
        using var pair = new DevicePair();
        Peer peer = pair.A.AddPeer(DevicePair.NewKeyPublic(), default, new IPEndPoint(IPAddress.Loopback, 1), TimeSpan.FromSeconds(25));
        pair.Pump();
        int initiations = (int)pair.A.Counters.HandshakeInitiationsSent;
        Assert.True(initiations >= 1);
        Assert.NotNull(peer);
    }

    [Fact]
    public void Roaming_updates_the_endpoint_from_authenticated_packets_only()
    {
        using var pair = new DevicePair();
        pair.A.SendPacket(pair.PeerBOnA, Packet(100, 1));
        pair.Pump();

        var roamed = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000);
        var buffer = new byte[256];
        Packet(100, 8).CopyTo(buffer, 16);
        Assert.Equal(SealStatus.Sealed, pair.A.TrySeal(pair.PeerBOnA, buffer, 100, 1420, out int length));
        byte[] forged = buffer[..length];
        forged[40] ^= 1;
        pair.B.ReceiveOutside((byte[])forged.Clone(), roamed);
        Assert.Equal(DevicePair.EndpointA, pair.PeerAOnB.Endpoint);

        // Sealing works in place: put a clean IP packet back before sealing the genuine one (sealing the
        // first ciphertext again made the inner "packet" random bytes, which the receiver may rightly drop).
        Packet(100, 8).CopyTo(buffer, 16);
        Assert.Equal(SealStatus.Sealed, pair.A.TrySeal(pair.PeerBOnA, buffer, 100, 1420, out length));
        Assert.Equal(InboundKind.Data, pair.B.ReceiveOutside(buffer.AsSpan(0, length).ToArray(), roamed).Kind);
        Assert.Equal(roamed, pair.PeerAOnB.Endpoint);
    }

    [Fact]
    public void Garbage_datagrams_are_counted_drops_never_exceptions()
    {
        using var pair = new DevicePair();
        var rng = new Random(42);
        for (int i = 0; i < 5000; i++)
        {
            var datagram = new byte[rng.Next(0, 200)];
            rng.NextBytes(datagram);
            if (datagram.Length > 4 && i % 2 == 0)
            {
                datagram[0] = (byte)rng.Next(1, 5);
                datagram[1] = datagram[2] = datagram[3] = 0;
            }

            Assert.Equal(InboundKind.Dropped, pair.B.ReceiveOutside(datagram, DevicePair.EndpointA).Kind);
        }
    }
}

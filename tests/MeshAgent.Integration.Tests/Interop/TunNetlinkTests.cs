using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MeshAgent.Core.Net;
using Xunit;

namespace MeshAgent.Integration.Tests.Interop;

/// <summary>
/// TunDevice and Netlink against the real kernel, each test in a fresh network namespace, checked from the
/// outside with <c>ip -n NS -j</c>.
/// </summary>
public sealed class TunNetlinkTests
{
    private static readonly IPAddress TunAddress = IPAddress.Parse("10.77.0.1");
    private static readonly IPAddress PeerAddress = IPAddress.Parse("10.77.0.2");
    private static readonly IPAddress TunAddress6 = IPAddress.Parse("fd77::1");
    private static readonly IPNetwork Route4 = IPNetwork.Parse("10.78.0.0/16");
    private static readonly IPNetwork Route6 = IPNetwork.Parse("fd78::/48");

    [Fact]
    public void Configures_a_tun_device_and_the_kernel_answers_ping_through_it()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Create("mtest0");
            using var netlink = Netlink.Open();
            Assert.Equal("mtest0", tun.Name);
            Assert.True(tun.HasVirtioHeader);
            Assert.Equal(TunOffloads.Tcp, tun.Offloads & TunOffloads.Tcp);

            netlink.AddAddress("mtest0", TunAddress, 24);
            netlink.AddAddress("mtest0", TunAddress6, 64);
            netlink.SetMtu("mtest0", 1420);
            netlink.SetLinkUp("mtest0");
            netlink.AddRoute("mtest0", Route4);
            netlink.AddRoute("mtest0", Route6);

            JsonElement link = Assert.Single(ns.IpJson("addr", "show", "dev", "mtest0").EnumerateArray());
            Assert.Equal(1420, link.GetProperty("mtu").GetInt32());
            Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
            var addresses = link.GetProperty("addr_info").EnumerateArray()
                .Select(a => $"{a.GetProperty("family").GetString()} {a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")
                .ToList();
            Assert.Contains("inet 10.77.0.1/24", addresses);
            Assert.Contains("inet6 fd77::1/64", addresses);
            Assert.Equal(netlink.GetLinkIndex("mtest0"), link.GetProperty("ifindex").GetInt32());

            JsonElement route4 = FindRoute(ns, "-4", "10.78.0.0/16");
            Assert.Equal("static", route4.GetProperty("protocol").GetString());
            Assert.Equal("link", route4.GetProperty("scope").GetString());
            Assert.Equal("mtest0", route4.GetProperty("dev").GetString());
            JsonElement route6 = FindRoute(ns, "-6", "fd78::/48");
            Assert.Equal("static", route6.GetProperty("protocol").GetString());
            Assert.Equal("mtest0", route6.GetProperty("dev").GetString());

            // A zero virtio header: no offload, checksums complete. The kernel answers 10.77.0.2 through mtest0.
            AssertPingAnswered(tun, sequence: 1);

            var duplicate = Assert.Throws<NativeCallException>(() => netlink.AddAddress("mtest0", TunAddress, 24));
            Assert.StartsWith("adding address 10.77.0.1/24 to mtest0 failed: file exists (EEXIST)", duplicate.Message);
            var duplicateRoute = Assert.Throws<NativeCallException>(() => netlink.AddRoute("mtest0", Route4));
            Assert.StartsWith("adding route 10.78.0.0/16 to mtest0 failed: file exists (EEXIST)", duplicateRoute.Message);

            // Our own protocol number and a table above 255 (carried in RTA_TABLE); deletes match the protocol.
            var owned = IPNetwork.Parse("10.79.0.0/16");
            netlink.AddRoute("mtest0", owned, protocol: 77, table: 1000, metric: 5);
            JsonElement ownedRoute = Assert.Single(ns.IpJson("-4", "route", "show", "table", "1000").EnumerateArray());
            Assert.Equal("10.79.0.0/16", ownedRoute.GetProperty("dst").GetString());
            Assert.Equal("77", ownedRoute.GetProperty("protocol").ToString());
            Assert.Equal(5, ownedRoute.GetProperty("metric").GetInt32());
            var otherOwner = Assert.Throws<NativeCallException>(() => netlink.DeleteRoute("mtest0", owned, table: 1000, metric: 5));
            Assert.Equal(3, otherOwner.Errno); // ESRCH: a static-protocol delete does not remove protocol 77's route
            netlink.DeleteRoute("mtest0", owned, protocol: 77, table: 1000, metric: 5);
            Assert.Empty(ns.IpJson("-4", "route", "show", "table", "1000").EnumerateArray());

            netlink.DeleteRoute("mtest0", Route4);
            netlink.DeleteRoute("mtest0", Route6);
            netlink.DeleteAddress("mtest0", TunAddress, 24);
            netlink.DeleteAddress("mtest0", TunAddress6, 64);
            Assert.DoesNotContain("10.78.0.0/16", Destinations(ns, "-4"));
            Assert.DoesNotContain("fd78::/48", Destinations(ns, "-6"));
            link = Assert.Single(ns.IpJson("addr", "show", "dev", "mtest0").EnumerateArray());
            Assert.DoesNotContain(
                link.GetProperty("addr_info").EnumerateArray(),
                a => a.GetProperty("local").GetString() is "10.77.0.1" or "fd77::1");

            var missingRoute = Assert.Throws<NativeCallException>(() => netlink.DeleteRoute("mtest0", Route4));
            Assert.StartsWith("deleting route 10.78.0.0/16 from mtest0 failed: no such process (ESRCH)", missingRoute.Message);

            netlink.SetLinkDown("mtest0");
            link = Assert.Single(ns.IpJson("link", "show", "dev", "mtest0").EnumerateArray());
            Assert.DoesNotContain("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        });
    }

    [Fact]
    public void Netlink_errors_name_the_attempt_the_errno_and_the_kernel_reason()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var netlink = Netlink.Open();
            var noDevice = Assert.Throws<NativeCallException>(() => netlink.SetMtu("nosuch0", 1400));
            Assert.StartsWith("setting the MTU of nosuch0 to 1400 failed: no such device (ENODEV)", noDevice.Message);
            var noAddressTarget = Assert.Throws<NativeCallException>(() => netlink.AddAddress("nosuch0", TunAddress, 24));
            Assert.StartsWith("adding address 10.77.0.1/24 to nosuch0 failed: looking up interface nosuch0 failed: no such device (ENODEV)", noAddressTarget.Message);

            using var tun = TunDevice.Create("mtest0");

            // A route out of a device that is down: the kernel explains why in its extended ack.
            var down = Assert.Throws<NativeCallException>(() => netlink.AddRoute("mtest0", Route4));
            Assert.StartsWith("adding route 10.78.0.0/16 to mtest0 failed: network is down (ENETDOWN): ", down.Message);
            Assert.Contains("not up", down.Message, StringComparison.OrdinalIgnoreCase);

            var tooSmall = Assert.Throws<NativeCallException>(() => netlink.SetMtu("mtest0", 100_000));
            Assert.StartsWith("setting the MTU of mtest0 to 100000 failed: invalid argument (EINVAL)", tooSmall.Message);
        });
    }

    [Fact]
    public void Tun_creation_errors_say_what_to_do()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Create("mtest0");

            var busy = Assert.Throws<NativeCallException>(() => TunDevice.Create("mtest0"));
            Assert.Equal(
                "creating TUN device mtest0 failed: device or resource busy (EBUSY) — something (another meshagent?) already has mtest0 open; stop it or choose another name",
                busy.Message);

            var wrongKind = Assert.Throws<NativeCallException>(() => TunDevice.Create("lo"));
            Assert.StartsWith("creating TUN device lo failed: invalid argument (EINVAL) — lo already exists as another kind of device", wrongKind.Message);

            var wrongQueues = Assert.Throws<NativeCallException>(() => TunDevice.CreateQueues("mtest0", 2));
            Assert.StartsWith("creating TUN device mtest0 failed: invalid argument (EINVAL)", wrongQueues.Message);
        });
    }

    [Fact]
    public void Multi_queue_device_answers_on_its_queues()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            TunDevice[] queues = TunDevice.CreateQueues("mtestq", 3);
            try
            {
                Assert.Equal(3, queues.Length);
                Assert.All(queues, q => Assert.Equal("mtestq", q.Name));
                Assert.Equal(3, queues.Select(q => q.Handle.DangerousGetHandle()).Distinct().Count());

                // A single-queue open of a multi-queue device is refused.
                var single = Assert.Throws<NativeCallException>(() => TunDevice.Create("mtestq"));
                Assert.Equal(22, single.Errno); // EINVAL

                using var netlink = Netlink.Open();
                netlink.AddAddress("mtestq", TunAddress, 24);
                netlink.SetLinkUp("mtestq");

                // The kernel picks the reply's queue by flow hash: look on all of them.
                for (ushort sequence = 1; sequence <= 8; sequence++)
                {
                    AssertPingAnswered(queues[sequence % 3], sequence, replyQueues: queues);
                }
            }
            finally
            {
                foreach (TunDevice queue in queues)
                {
                    queue.Dispose();
                }
            }
        });
    }

    [Fact]
    public void An_eventfd_wakes_a_reader_blocked_on_an_idle_tun()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Create("mtest0");
            using var stop = new EventFd();
            PollResult result = PollResult.TimedOut;
            var reader = new Thread(() => result = Poll.WaitReadable(tun.Handle, stop));
            reader.Start();
            Thread.Sleep(100);
            Assert.True(reader.IsAlive);
            stop.Signal();
            Assert.True(reader.Join(5000));
            Assert.Equal(PollResult.Woken, result);

            // Non-blocking queue: nothing to read is 0, not an exception or a hang.
            Assert.Equal(0, tun.Read(new byte[TunDevice.MaxReadSize]));
        });
    }

    [Fact]
    public void Tun_read_and_write_do_not_allocate()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Create("mtest0");
            using (var netlink = Netlink.Open())
            {
                netlink.AddAddress("mtest0", TunAddress, 24);
                netlink.SetLinkUp("mtest0");
            }

            using var stop = new EventFd();
            byte[] request = new byte[128];
            byte[] reply = new byte[TunDevice.MaxReadSize];
            byte[] header = new byte[VirtioNetHeader.Size];
            byte[] peer = PeerAddress.GetAddressBytes();
            byte[] local = TunAddress.GetAddressBytes();
            int length = 0;

            void RoundTrip(ushort sequence)
            {
                length = Packets.WriteEchoRequest(request, PeerAddress, TunAddress, id: 7, sequence, payloadLength: 56);
                int written = tun.Write(header, request.AsSpan(0, length));
                if (written != VirtioNetHeader.Size + length)
                {
                    throw new InvalidOperationException($"write returned {written}");
                }

                while (true)
                {
                    if (Poll.WaitReadable(tun.Handle, stop, 5000) != PollResult.Readable)
                    {
                        throw new TimeoutException($"no echo reply {sequence}");
                    }

                    int n = tun.Read(header, reply);
                    if (n > 0 && Packets.IsEchoReply(reply.AsSpan(0, n), local, peer, 7, sequence, 56))
                    {
                        return;
                    }
                }
            }

            // Warm up (JIT, first-call stubs, IPAddress.GetAddressBytes in WriteEchoRequest is not used per packet).
            for (ushort i = 1; i <= 20; i++)
            {
                RoundTrip(i);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (ushort i = 21; i <= 520; i++)
            {
                RoundTrip(i);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
    }

    /// <summary>Writes an echo request from 10.77.0.2 to 10.77.0.1 into <paramref name="tun"/> and waits for the kernel's reply.</summary>
    internal static void AssertPingAnswered(TunDevice tun, ushort sequence, TunDevice[]? replyQueues = null)
    {
        replyQueues ??= [tun];
        byte[] packet = new byte[128];
        int length = Packets.WriteEchoRequest(packet, PeerAddress, TunAddress, id: 0xBEEF, sequence, payloadLength: 32);
        Span<byte> zeroHeader = stackalloc byte[VirtioNetHeader.Size];
        zeroHeader.Clear();
        Assert.Equal(VirtioNetHeader.Size + length, tun.Write(zeroHeader, packet.AsSpan(0, length)));

        byte[] header = new byte[VirtioNetHeader.Size];
        byte[] reply = new byte[TunDevice.MaxReadSize];
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 5000)
        {
            foreach (TunDevice queue in replyQueues)
            {
                int n = queue.Read(header, reply);
                Assert.True(n >= 0, $"reading {queue.Name} failed: {Errno.Describe(-n)}");
                if (n > 0 && Packets.IsEchoReply(reply.AsSpan(0, n), TunAddress.GetAddressBytes(), PeerAddress.GetAddressBytes(), 0xBEEF, sequence, 32))
                {
                    Assert.True(VirtioNetHeader.TryRead(header, out VirtioNetHeader virtio));
                    Assert.Equal(VirtioGsoType.None, virtio.GsoType);
                    return;
                }
            }

            Thread.Sleep(1);
        }

        Assert.Fail($"no echo reply {sequence} from the kernel within 5 s");
    }

    private static JsonElement FindRoute(InteropNamespace ns, string family, string destination) =>
        Assert.Single(ns.IpJson(family, "route", "show", "table", "main").EnumerateArray(), r => r.GetProperty("dst").GetString() == destination);

    private static List<string?> Destinations(InteropNamespace ns, string family) =>
        ns.IpJson(family, "route", "show", "table", "all").EnumerateArray().Select(r => r.GetProperty("dst").GetString()).ToList();
}

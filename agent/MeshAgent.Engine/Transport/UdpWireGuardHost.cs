using System.Net;
using System.Net.Sockets;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Transport;

/// <summary>
/// A userspace WireGuard peer over one ordinary UDP socket, without a TUN device: a receive
/// thread feeds datagrams to the <see cref="WireGuardDevice"/> and hands decrypted payloads to
/// a callback; a control thread runs the device timers. It is the simplest complete host of
/// the protocol engine — used by interop tests and tools; the agent's data plane uses the
/// batched pipeline instead.
/// </summary>
public sealed class UdpWireGuardHost : IOutsideSender, IDisposable
{
    public delegate void PayloadHandler(Peer peer, ReadOnlySpan<byte> payload);

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(100);

    private readonly Socket _socket;
    private readonly PayloadHandler _onPayload;
    private readonly Thread _receiveThread;
    private readonly Thread _controlThread;
    private readonly AutoResetEvent _wakeup = new(false);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _sendLock = new();

    /// <param name="socket">A bound UDP socket (created in whatever network namespace the caller chose); the host owns it.</param>
    public UdpWireGuardHost(WireGuardDeviceOptions options, Socket socket, PayloadHandler onPayload)
    {
        _socket = socket;
        _onPayload = onPayload;
        Device = new WireGuardDevice(options, this)
        {
            ControlWakeup = () => _wakeup.Set(),
        };
        _receiveThread = new Thread(ReceiveLoop) { IsBackground = true, Name = "wg-receive" };
        _controlThread = new Thread(ControlLoop) { IsBackground = true, Name = "wg-control" };
    }

    public WireGuardDevice Device { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Exceptions that escaped the loops (a bug, not bad input); tests assert it stays empty.</summary>
    public List<Exception> Faults { get; } = [];

    public void Start()
    {
        _receiveThread.Start();
        _controlThread.Start();
    }

    /// <summary>Sends a payload (IP packet) to a peer, staging it until a session exists.</summary>
    public void Send(Peer peer, ReadOnlySpan<byte> payload) => Device.SendPacket(peer, payload);

    void IOutsideSender.Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        try
        {
            lock (_sendLock)
            {
                _socket.SendTo(datagram, SocketFlags.None, destination);
            }
        }
        catch (SocketException)
        {
            // Unreachable destinations are normal on the outside network; the timers retry.
        }
    }

    private void ReceiveLoop()
    {
        byte[] buffer = GC.AllocateArray<byte>(65536, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        IPEndPoint template = new(_socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        IPEndPoint? lastSource = null;
        byte[] lastAddress = new byte[address.Buffer.Length];
        int lastAddressSize = 0;
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, address);
            }
            catch (SocketException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // ICMP errors surface as ECONNREFUSED on Linux; ignore.
            }

            try
            {
                // Reuse the endpoint object while the source stays the same (no allocation per packet).
                ReadOnlySpan<byte> current = address.Buffer.Span[..address.Size];
                if (lastSource is null || !current.SequenceEqual(lastAddress.AsSpan(0, lastAddressSize)))
                {
                    lastSource = (IPEndPoint)template.Create(address);
                    current.CopyTo(lastAddress);
                    lastAddressSize = current.Length;
                }

                Span<byte> datagram = buffer.AsSpan(0, received);
                InboundResult result = Device.ReceiveOutside(datagram, lastSource);
                if (result.Kind == InboundKind.Data)
                {
                    _onPayload(result.Peer!, datagram.Slice(result.PayloadOffset, result.PayloadLength));
                }
            }
            catch (Exception e)
            {
                lock (Faults)
                {
                    Faults.Add(e);
                }
            }
        }
    }

    private void ControlLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            _wakeup.WaitOne(TickInterval);
            try
            {
                Device.Tick();
            }
            catch (Exception e)
            {
                lock (Faults)
                {
                    Faults.Add(e);
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _wakeup.Set();
        _socket.Dispose(); // unblocks ReceiveFrom in this simple host
        if (_receiveThread.IsAlive)
        {
            _receiveThread.Join(TimeSpan.FromSeconds(2));
        }

        if (_controlThread.IsAlive)
        {
            _controlThread.Join(TimeSpan.FromSeconds(2));
        }

        Device.Dispose();
        _wakeup.Dispose();
        _stop.Dispose();
    }
}

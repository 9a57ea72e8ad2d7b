using System.Globalization;
using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>Options of <see cref="WireGuardGoPeer.StartAsync"/>.</summary>
public sealed record WireGuardGoOptions
{
    /// <summary>UDP listen port; null lets wireguard-go pick one (read back into <see cref="WireGuardGoPeer.ListenPort"/>).</summary>
    public int? ListenPort { get; init; }

    /// <summary>Interface addresses in CIDR form, e.g. "10.77.0.1/24", "fd77::1/64" (IPv6 ones get "nodad").</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Base64 private key; null generates one with <c>wg genkey</c>.</summary>
    public string? PrivateKey { get; init; }

    /// <summary>Interface MTU; null keeps wireguard-go's default (1420).</summary>
    public int? Mtu { get; init; }

    /// <summary>wireguard-go's LOG_LEVEL: "verbose" (default: handshakes appear in the output buffer), "error" or "silent".</summary>
    public string LogLevel { get; init; } = "verbose";
}

/// <summary>
/// The reference peer: Debian's userspace <c>wireguard-go</c> (bookworm: 0.0.20220316) running in a
/// namespace, configured with <c>wg</c> and <c>ip</c>.
/// <para>
/// That version takes exactly "[-f|--foreground] INTERFACE-NAME" and has no --help: any other
/// argument is taken as an interface name (and, without -f, daemonizes). Its control socket is
/// /var/run/wireguard/&lt;dev&gt;.sock on the shared file system, so device names must be unique
/// across namespaces: they are "wg&lt;random&gt;&lt;label&gt;", at most 15 characters.
/// </para>
/// Dispose stops the process by PID (SIGTERM, SIGKILL after 2 s), removes the device and the
/// temporary key directory. Never throws from Dispose.
/// </summary>
public sealed class WireGuardGoPeer : IAsyncDisposable, IDisposable
{
    private const string SocketDirectory = "/var/run/wireguard";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly DirectoryInfo _secrets;
    private int _disposed;

    private WireGuardGoPeer(NetworkNamespace ns, string interfaceName, ProcessHandle process, DirectoryInfo secrets, string privateKey)
    {
        Namespace = ns;
        InterfaceName = interfaceName;
        Process = process;
        _secrets = secrets;
        PrivateKey = privateKey;
    }

    public NetworkNamespace Namespace { get; }

    /// <summary>The TUN device in <see cref="Namespace"/>, e.g. "wgk3x9alice".</summary>
    public string InterfaceName { get; }

    /// <summary>The wireguard-go process; its output (LOG_LEVEL) is buffered for diagnostics.</summary>
    public ProcessHandle Process { get; }

    public string PrivateKey { get; }

    /// <summary>Base64 public key, as reported by the running device.</summary>
    public string PublicKey { get; private set; } = "";

    public int ListenPort { get; private set; }

    /// <summary>Starts wireguard-go in <paramref name="ns"/>, sets key and port, adds the addresses and brings the device up.</summary>
    public static async Task<WireGuardGoPeer> StartAsync(NetworkNamespace ns, WireGuardGoOptions? options = null)
    {
        Requirements.EnsureNetnsTestsCanRun();
        options ??= new WireGuardGoOptions();
        var privateKey = options.PrivateKey ?? await WireGuardKeys.GeneratePrivateKeyAsync();

        string name;
        do
        {
            name = Lab.InterfaceName("wg" + NetworkNamespace.NewId(4) + ns.Label.Replace("-", "", StringComparison.Ordinal));
        }
        while (File.Exists(SocketPath(name)));

        // mkdtemp: mode 0700, so the key files below are private even before their own 0600.
        var secrets = Directory.CreateTempSubdirectory("meshagent-wg-");
        var process = ns.StartProcess(
            $"wireguard-go {name}",
            ["wireguard-go", "-f", name],
            new Dictionary<string, string>
            {
                ["WG_PROCESS_FOREGROUND"] = "1",
                ["LOG_LEVEL"] = options.LogLevel,
            });
        var peer = new WireGuardGoPeer(ns, name, process, secrets, privateKey);
        try
        {
            await ProcessRunner.WaitUntilAsync(
                () => File.Exists(SocketPath(name)),
                StartTimeout,
                $"wireguard-go to create {name} and its control socket {SocketPath(name)}",
                [process]);

            List<string> set = ["wg", "set", name, "private-key", peer.WriteSecret("private.key", privateKey)];
            if (options.ListenPort is { } port)
            {
                set.AddRange(["listen-port", port.ToString(CultureInfo.InvariantCulture)]);
            }
            await ns.ExecAsync([.. set]);
            foreach (var address in options.Addresses)
            {
                if (address.Contains(':', StringComparison.Ordinal))
                {
                    await ns.IpAsync("addr", "add", address, "dev", name, "nodad");
                }
                else
                {
                    await ns.IpAsync("addr", "add", address, "dev", name);
                }
            }
            if (options.Mtu is { } mtu)
            {
                await ns.IpAsync("link", "set", name, "mtu", mtu.ToString(CultureInfo.InvariantCulture));
            }
            await ns.IpAsync("link", "set", name, "up");

            var dump = await peer.ShowDumpAsync();
            peer.PublicKey = dump.PublicKey;
            peer.ListenPort = dump.ListenPort;
            ns.Log.Write($"wireguard-go {name} in {ns.Name}: public key {peer.PublicKey}, port {peer.ListenPort}");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds or updates a peer (<c>wg set … peer</c>). <paramref name="endpoint"/> null leaves it
    /// to be learned from the peer's handshake; an empty <paramref name="allowedIps"/> leaves them unchanged.
    /// </summary>
    public async Task AddPeerAsync(
        string publicKey,
        IPEndPoint? endpoint,
        IReadOnlyList<string> allowedIps,
        int? persistentKeepalive = null,
        string? presharedKey = null)
    {
        List<string> command = ["wg", "set", InterfaceName, "peer", publicKey];
        if (endpoint is not null)
        {
            // IPEndPoint formats IPv6 as "[addr]:port", the form wg expects.
            command.AddRange(["endpoint", endpoint.ToString()]);
        }
        if (allowedIps.Count > 0)
        {
            command.AddRange(["allowed-ips", string.Join(',', allowedIps)]);
        }
        if (persistentKeepalive is { } keepalive)
        {
            command.AddRange(["persistent-keepalive", keepalive.ToString(CultureInfo.InvariantCulture)]);
        }
        if (presharedKey is not null)
        {
            command.AddRange(["preshared-key", WriteSecret($"psk-{Guid.NewGuid():N}.key", presharedKey)]);
        }
        await Namespace.ExecAsync([.. command]);
    }

    /// <summary>Removes a peer (<c>wg set … peer &lt;key&gt; remove</c>).</summary>
    public Task RemovePeerAsync(string publicKey)
        => Namespace.ExecAsync("wg", "set", InterfaceName, "peer", publicKey, "remove");

    /// <summary>Parsed <c>wg show &lt;dev&gt; dump</c>.</summary>
    public async Task<WireGuardDump> ShowDumpAsync()
        => WireGuardDump.Parse((await Namespace.ExecAsync("wg", "show", InterfaceName, "dump")).StandardOutput);

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            // On SIGTERM wireguard-go closes the device and removes its socket itself.
            await Process.StopAsync();
            if (!Namespace.IsDisposed)
            {
                await Namespace.ExecAsync(["ip", "link", "del", InterfaceName], new RunOptions { Check = false });
            }
            // After a SIGKILL the socket file stays behind; the name is ours alone.
            File.Delete(SocketPath(InterfaceName));
        }
        catch (Exception e)
        {
            Namespace.Log.Write($"warning: cleanup of wireguard-go {InterfaceName} failed: {e.Message}");
        }
        finally
        {
            try
            {
                _secrets.Delete(recursive: true);
            }
            catch (IOException e)
            {
                Namespace.Log.Write($"warning: could not delete {_secrets.FullName}: {e.Message}");
            }
        }
    }

    public override string ToString() => $"wireguard-go {InterfaceName} in {Namespace.Name}";

    private static string SocketPath(string name) => Path.Combine(SocketDirectory, name + ".sock");

    // wg reads keys only from files; each goes into the 0700 temp directory with mode 0600.
    private string WriteSecret(string fileName, string base64Key)
    {
        var path = Path.Combine(_secrets.FullName, fileName);
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(base64Key + "\n");
        return path;
    }
}

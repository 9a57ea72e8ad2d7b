using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MeshAgent.Core.Interop.Linux;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.State;

/// <summary>
/// The daemon's state directory (DESIGN §8; <c>/var/lib/meshagent</c> by default, <c>--state-dir</c> for
/// several agents on one machine): identity, root key, membership, invitations and the handshake
/// timestamp floor, so a restart comes back as the same node with the same addresses and membership.
/// <para>
/// Layout: <c>lock</c> (flock held while open, our pid inside), <c>identity.key</c>, <c>root.key</c>
/// (admins only), <c>node.json</c>, <c>invitations.json</c>, <c>tai64n</c>. Every file is 0600 and
/// written with <see cref="AtomicFile"/>; a directory this class creates is 0700.
/// </para>
/// <para>
/// One process at a time: <see cref="Open"/> takes an exclusive lock for the life of this object. Damaged
/// files are never replaced silently — a new identity would quietly turn the node into a stranger — the
/// load throws a <see cref="StateException"/> that names the file and says what to do.
/// </para>
/// Not thread-safe except <see cref="Warnings"/>: the daemon loads and saves from its control plane; the
/// invitation store it hands out is thread-safe on its own.
/// </summary>
public sealed class StateDirectory : IDisposable
{
    public const string LockFileName = "lock";
    public const string IdentityFileName = "identity.key";
    public const string RootKeyFileName = "root.key";
    public const string NodeStateFileName = "node.json";
    public const string InvitationsFileName = "invitations.json";
    public const string TimestampFloorFileName = "tai64n";

    /// <summary>0700: the directory is the daemon's alone.</summary>
    public const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>0600, for every file in it (keys, invitation secrets, membership).</summary>
    public const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>A key file is one line of about 60 characters; anything much longer is not one.</summary>
    private const int MaxKeyFileBytes = 1024;

    private readonly LockFile _lock;
    private readonly Lock _warningsGate = new();
    private readonly List<string> _warnings = [];
    private FileInvitationStore? _invitations;
    private bool _disposed;

    private StateDirectory(string path, LockFile lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    /// <summary>The directory, as an absolute path.</summary>
    public string Path { get; }

    /// <summary>
    /// Things worth a log line at Warning that did not stop the load (a key file open to others was
    /// tightened, leftovers of an interrupted write were removed, …). A snapshot, in order.
    /// </summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warningsGate)
            {
                return [.. _warnings];
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/>, creating it (0700) when missing, and locks it for this process.
    /// Then removes temporary files an interrupted write left behind.
    /// </summary>
    /// <exception cref="StateException">
    /// Another meshagent holds it, or it cannot be created, locked or written (permission denied, not a
    /// directory, read-only file system); the message says which and what to do.
    /// </exception>
    public static StateDirectory Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the meshagent state directory needs Linux (flock, file modes, fsync of directories)");
        }

        string full = System.IO.Path.GetFullPath(path);
        var warnings = new List<string>();
        if (File.Exists(full))
        {
            throw new StateException($"state directory {full} is a file, not a directory — move the file away or pass --state-dir a directory");
        }

        if (!Directory.Exists(full))
        {
            Create(full);
        }
        else if ((File.GetUnixFileMode(full) & GroupOrOther) != 0)
        {
            warnings.Add($"state directory {full} is open to group or others (mode {Octal(File.GetUnixFileMode(full))}); its files are 0600, but chmod 700 it to keep even their names private");
        }

        string lockPath = System.IO.Path.Combine(full, LockFileName);
        LockFile? lockFile;
        string holder;
        try
        {
            if (!LockFile.TryAcquire(lockPath, PrivateFileMode, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", out lockFile, out holder))
            {
                throw new StateException(DescribeHeld(full, holder));
            }
        }
        catch (NativeCallException e)
        {
            throw new StateException(DescribeOpenFailure(full, lockPath, e.Errno), e);
        }

        var directory = new StateDirectory(full, lockFile);
        try
        {
            int removed = AtomicFile.RemoveStaleTemporaryFiles(full);
            if (removed > 0)
            {
                warnings.Add($"removed {removed} temporary file(s) left in {full} by a write that was interrupted (crash or power cut); the files they were replacing are intact");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"could not remove temporary files left in {full} by an interrupted write: {AtomicFile.Describe(e)}");
        }
        catch
        {
            directory.Dispose();
            throw;
        }

        directory._warnings.AddRange(warnings);
        return directory;
    }

    /// <summary>
    /// This node's identity: loaded from identity.key, or generated and saved (0600) when the file does not
    /// exist and the node has no membership yet. The caller owns the result (dispose it to wipe the secret).
    /// </summary>
    /// <exception cref="StateException">
    /// identity.key exists but is unreadable or damaged (it is never replaced), or it is missing while
    /// node.json exists (a new key would not match the node's certificate).
    /// </exception>
    public NodeIdentity LoadOrCreateIdentity()
    {
        ThrowIfDisposed();
        string path = FilePath(IdentityFileName);
        byte[]? bytes = ReadFile(path, secret: true);
        if (bytes is null)
        {
            string nodeState = FilePath(NodeStateFileName);
            if (File.Exists(nodeState))
            {
                // A membership without its key: a new identity would not match the certificate in node.json.
                throw new StateException(
                    $"identity file {path} is missing, but {nodeState} records this node's network membership — restore " +
                    $"{IdentityFileName} from a backup, or move {NodeStateFileName} away to start as a new node that must join again");
            }

            NodeIdentity created = NodeIdentity.Generate();
            try
            {
                AtomicFile.WriteText(path, created.RevealSecretText() + "\n", PrivateFileMode);
            }
            catch
            {
                created.Dispose();
                throw;
            }

            return created;
        }

        try
        {
            if (TryParseKey(bytes, NodeIdentity.TryParseSecretText, NodeIdentity.DescribeInvalidSecretText, out NodeIdentity? identity, out string reason))
            {
                return identity;
            }

            throw new StateException(
                $"identity file {path} is damaged: {reason}. Restore it from a backup, or move it away — meshagent then " +
                "creates a NEW identity, and this node must join the network again (meshagent join TOKEN)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The network root key from root.key (admins only), or null when this node holds none.</summary>
    /// <exception cref="StateException">root.key exists but is unreadable or damaged.</exception>
    public NetworkRootKey? LoadRootKey()
    {
        ThrowIfDisposed();
        string path = FilePath(RootKeyFileName);
        byte[]? bytes = ReadFile(path, secret: true);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            if (TryParseKey(bytes, NetworkRootKey.TryParseSecretText, NetworkRootKey.DescribeInvalidSecretText, out NetworkRootKey? key, out string reason))
            {
                return key;
            }

            throw new StateException(
                $"root key file {path} is damaged: {reason}. Restore it from a backup — it is the network's root private key, " +
                "without which this node cannot admit or revoke members; only if no copy exists anywhere, move it away " +
                "(this node then stops being an admin)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Saves the network root key to root.key (0600, atomic).</summary>
    public void SaveRootKey(NetworkRootKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        AtomicFile.WriteText(FilePath(RootKeyFileName), key.RevealSecretText() + "\n", PrivateFileMode);
    }

    /// <summary>The membership state from node.json, or null when this node has not joined a network yet.</summary>
    /// <exception cref="StateException">node.json is unreadable, damaged or from a newer meshagent.</exception>
    public NodeState? LoadNodeState()
    {
        ThrowIfDisposed();
        string path = FilePath(NodeStateFileName);
        byte[]? bytes = ReadFile(path, secret: false);
        if (bytes is null)
        {
            return null;
        }

        string? reason = StateJson.CheckFormat(path, bytes, NodeState.CurrentFormat);
        NodeState? state = null;
        if (reason is null)
        {
            try
            {
                state = JsonSerializer.Deserialize(bytes, StateJsonContext.Default.NodeState);
                if (state is not null)
                {
                    // Absent lists read as null, not as the initializers' empty lists: the generated
                    // constructor sets every init-only property.
                    state = state with { Members = state.Members ?? [], Revocations = state.Revocations ?? [] };
                }

                reason = state is null ? "it holds null instead of an object" : Validate(state);
            }
            catch (JsonException e)
            {
                reason = $"its content does not match the node state format ({e.Message})";
            }
        }

        if (reason is not null)
        {
            throw new StateException(
                $"state file {path} is damaged: {reason}. Restore it from a backup, or move it away — this node then starts " +
                "outside its network and must join again (meshagent join TOKEN); its identity is kept");
        }

        return state;
    }

    /// <summary>Saves <paramref name="state"/> to node.json (0600, atomic, durable when this returns), in <see cref="NodeState.CurrentFormat"/>.</summary>
    public void SaveNodeState(NodeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ThrowIfDisposed();
        string? invalid = Validate(state);
        if (invalid is not null)
        {
            throw new ArgumentException($"refusing to save a node state that could not be loaded again: {invalid}", nameof(state));
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(state with { Format = NodeState.CurrentFormat }, StateJsonContext.Default.NodeState);
        AtomicFile.Write(FilePath(NodeStateFileName), json, PrivateFileMode);
    }

    /// <summary>The invitation store (invitations.json) on the system clock. The same instance on every call.</summary>
    public FileInvitationStore OpenInvitations() => OpenInvitations(TimeProvider.System);

    /// <summary>
    /// The invitation store, with <paramref name="time"/> deciding what has expired. Opened once and kept:
    /// later calls return the same instance (two stores on one file would overwrite each other). It
    /// lives as long as this directory: disposing the directory disposes it.
    /// </summary>
    /// <exception cref="StateException">invitations.json is unreadable, damaged or from a newer meshagent.</exception>
    public FileInvitationStore OpenInvitations(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        ThrowIfDisposed();
        if (_invitations is not null)
        {
            return _invitations;
        }

        string path = FilePath(InvitationsFileName);
        byte[]? bytes = ReadFile(path, secret: true);
        _invitations = FileInvitationStore.Load(path, bytes, time);
        return _invitations;
    }

    /// <summary>The handshake timestamp floor (tai64n), which keeps WireGuard initiations newer than any sent before a restart.</summary>
    public ITai64NFloorStore OpenTimestampFloor()
    {
        ThrowIfDisposed();
        return new FileTai64NFloorStore(FilePath(TimestampFloorFileName));
    }

    /// <summary>Releases the lock (and disposes the invitation store, wiping its secrets). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _invitations?.Dispose();
        _lock.Dispose();
    }

    /// <summary>The message for a lock held by another process; <paramref name="holderText"/> is what it wrote (its pid).</summary>
    internal static string DescribeHeld(string directory, string holderText)
    {
        string firstLine = holderText.Split('\n', 2)[0].Trim();
        string pid = int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value.ToString(CultureInfo.InvariantCulture)
            : "unknown";
        return $"another meshagent (pid {pid}) is using state directory {directory} — stop it first or pass --state-dir";
    }

    /// <summary>The message for a failure to create or lock the state directory's lock file, by errno.</summary>
    internal static string DescribeOpenFailure(string directory, string lockPath, int errno) => errno switch
    {
        LinuxErrno.EACCES or LinuxErrno.EPERM =>
            $"cannot use state directory {directory}: permission denied — run meshagent as root (or as the owner of {directory}), or pass --state-dir a directory you own",
        LinuxErrno.EROFS =>
            $"cannot use state directory {directory}: it is on a read-only file system — remount it read-write or pass --state-dir a writable directory",
        LinuxErrno.ENOTDIR =>
            $"cannot use state directory {directory}: a component of the path is not a directory — pass --state-dir a directory path",
        LinuxErrno.EISDIR =>
            $"cannot use state directory {directory}: {lockPath} is a directory — remove it (meshagent keeps a lock file there)",
        LinuxErrno.ENOSPC =>
            $"cannot use state directory {directory}: the disk is full — free space and retry",
        _ => $"cannot use state directory {directory}: locking {lockPath} failed: {Errno.Describe(errno)}",
    };

    [SupportedOSPlatform("linux")]
    private static void Create(string full)
    {
        try
        {
            Directory.CreateDirectory(full, PrivateDirectoryMode);
            File.SetUnixFileMode(full, PrivateDirectoryMode); // the umask may have taken bits from the owner
            string? parent = System.IO.Path.GetDirectoryName(full);
            if (parent is not null)
            {
                FileSync.SyncDirectory(parent);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StateException(DescribeOpenFailure(full, System.IO.Path.Combine(full, LockFileName), LinuxErrno.EACCES), e);
        }
        catch (NativeCallException e)
        {
            throw new StateException(DescribeOpenFailure(full, System.IO.Path.Combine(full, LockFileName), e.Errno), e);
        }
        catch (IOException e)
        {
            // .NET reports EROFS, ENOTDIR, ENOSPC... as IOException whose message carries strerror's text.
            throw new StateException($"cannot create state directory {full}: {e.Message} — pass --state-dir a writable directory", e);
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);

    /// <summary>Structural checks that make a loaded state usable; null when fine, else the reason.</summary>
    private static string? Validate(NodeState state)
    {
        if (string.IsNullOrEmpty(state.NetworkName))
        {
            return "the network name is empty";
        }

        if (state.RootPublicKey.Length != 32)
        {
            return $"the root public key has {state.RootPublicKey.Length} bytes instead of 32";
        }

        if (!IPNetwork.TryParse(state.IPv4Network, out IPNetwork v4) || v4.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return $"the IPv4 network '{state.IPv4Network}' is not an IPv4 prefix";
        }

        if (!IPNetwork.TryParse(state.IPv6Prefix, out IPNetwork v6) || v6.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return $"the IPv6 prefix '{state.IPv6Prefix}' is not an IPv6 prefix";
        }

        if (state.Certificate.Length == 0)
        {
            return "the certificate is empty";
        }

        if (state.Members is null || state.Members.Any(m => m is null))
        {
            return "the member list holds a null entry";
        }

        return state.Revocations is null || state.Revocations.Any(r => r is null) ? "the revocation list holds a null entry" : null;
    }

    private delegate bool KeyParser<TKey>(ReadOnlySpan<char> text, out TKey? key);

    private delegate string KeyDescriber(ReadOnlySpan<char> text);

    /// <summary>Parses a one-line key file without making a string of the secret; wipes its char copy.</summary>
    private static bool TryParseKey<TKey>(byte[] bytes, KeyParser<TKey> parse, KeyDescriber describe, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TKey? key, out string reason)
        where TKey : class
    {
        key = null;
        ReadOnlySpan<byte> line = bytes.AsSpan().Trim(" \t\r\n"u8);
        if (line.IsEmpty)
        {
            reason = bytes.Length == 0 ? "it is empty" : "it holds only white space";
            return false;
        }

        if (line.Length > MaxKeyFileBytes)
        {
            reason = $"it has {line.Length} bytes, far more than one key";
            return false;
        }

        char[] chars = new char[Encoding.UTF8.GetMaxCharCount(line.Length)];
        try
        {
            int count = Encoding.UTF8.GetChars(line, chars);
            if (parse(chars.AsSpan(0, count), out key) && key is not null)
            {
                reason = string.Empty;
                return true;
            }

            reason = describe(chars.AsSpan(0, count)); // never echoes the text
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chars.AsSpan()));
        }
    }

    private string FilePath(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The bytes of <paramref name="path"/>, or null when it does not exist; tightens a mode open to others first.</summary>
    private byte[]? ReadFile(string path, bool secret)
    {
        if (!File.Exists(path))
        {
            if (Directory.Exists(path))
            {
                throw new StateException($"{path} is a directory, not a file — move it away");
            }

            return null;
        }

        TightenMode(path, secret);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StateException($"cannot read {path}: permission denied — run meshagent as root (or as the owner of {Path})", e);
        }
        catch (IOException e)
        {
            throw new StateException($"cannot read {path}: {e.Message} — check the disk (dmesg), or restore the file from a backup", e);
        }
    }

    private void TightenMode(string path, bool secret)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // unreachable: Open refuses other systems
        }

        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOther) == 0)
            {
                return;
            }

            File.SetUnixFileMode(path, PrivateFileMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AddWarning($"{path} may be open to group or others, and setting its mode to 0600 failed: {AtomicFile.Describe(e)} — chmod 600 it");
            return;
        }

        AddWarning(secret
            ? $"{path} was open to group or others (mode {Octal(mode)}); set it to 0600. If anyone else could read it, treat the secret in it as exposed"
            : $"{path} was open to group or others (mode {Octal(mode)}); set it to 0600");
    }

    private void AddWarning(string warning)
    {
        lock (_warningsGate)
        {
            _warnings.Add(warning);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

using System.Text;
using MeshAgent.Core.Trust;

namespace MeshAgent.Relay;

/// <summary>The relay's state directory: its identity key and its revocations (DESIGN §8: written atomically).</summary>
internal static class StateFiles
{
    public const string IdentityFileName = "relay.key";

    /// <summary>Creates the state directory (0700) if needed. Throws <see cref="IOException"/> saying what to do.</summary>
    public static void EnsureDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("meshrelay runs on Linux");
        }

        try
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cannot create the state directory {directory}: permission denied — run as root, or pass --state-dir with a directory this user can write", e);
        }
    }

    /// <summary>
    /// The relay's identity from <c>relay.key</c>, created on first run. Its public key goes into every Challenge;
    /// keeping it across restarts lets clients pin it (<c>RelayClientOptions.ExpectedRelayKey</c>).
    /// </summary>
    public static NodeIdentity LoadOrCreateIdentity(string directory, out bool created)
    {
        string path = Path.Combine(directory, IdentityFileName);
        created = false;
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (!NodeIdentity.TryParseSecretText(text, out NodeIdentity? identity))
            {
                throw new InvalidDataException(
                    $"{path} does not hold a relay key ({NodeIdentity.DescribeInvalidSecretText(text)}) — restore it from a backup, or delete it to make a new key (clients that pinned the old key will refuse the new one)");
            }

            return identity;
        }

        NodeIdentity fresh = NodeIdentity.Generate();
        WriteAtomically(path, fresh.RevealSecretText() + "\n", secret: true);
        created = true;
        return fresh;
    }

    /// <summary>Writes <paramref name="path"/> through a temporary file, fsync and rename; 0600 when <paramref name="secret"/>, else 0644.</summary>
    public static void WriteAtomically(string path, string contents, bool secret)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("meshrelay runs on Linux");
        }

        string temporary = path + ".tmp";
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!secret)
        {
            mode |= UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode };
        using (var stream = new FileStream(temporary, options))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(contents);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

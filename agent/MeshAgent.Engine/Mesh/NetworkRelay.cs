using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Mesh;

/// <summary>
/// One relay a network uses (DESIGN §5): a <c>meshrelay</c> UDP endpoint, optionally its TCP stream port (for
/// members whose network blocks UDP) and the relay's public key (printed by <c>meshrelay key</c>; when set,
/// clients only authenticate to a relay presenting it). Kept in node.json, handed to joiners in the membership
/// snapshot, and put in join tokens (address only: tokens carry no keys).
/// </summary>
public sealed record NetworkRelay
{
    /// <summary>"host:port" or "[v6]:port" of the relay's UDP listener (<see cref="RelayAddress"/> syntax).</summary>
    public required string Address { get; init; }

    /// <summary>The relay's TCP stream port on the same host; null when it has none.</summary>
    public int? TcpPort { get; init; }

    /// <summary>The relay's key as <c>meshrelay key</c> prints it (meshnode1:…); null to accept whatever key the relay presents.</summary>
    public string? Key { get; init; }

    /// <summary>
    /// Parses the CLI form <c>HOST:PORT[,tcp=PORT][,key=KEY]</c>. Never throws; <paramref name="error"/> says what is
    /// wrong with which part.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out NetworkRelay? relay, [NotNullWhen(false)] out string? error)
    {
        relay = null;
        string[] parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (!RelayAddress.TryParse(parts[0], out RelayAddress address))
        {
            error = $"'{parts[0]}' is not a relay address — give HOST:PORT or [IPv6]:PORT, e.g. relay.example.org:3478";
            return false;
        }

        int? tcp = null;
        string? key = null;
        foreach (string part in parts.Skip(1))
        {
            if (part.StartsWith("tcp=", StringComparison.Ordinal)
                && int.TryParse(part.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535)
            {
                tcp = port;
            }
            else if (part.StartsWith("key=", StringComparison.Ordinal) && NodePublicKey.TryParse(part.AsSpan(4), out _))
            {
                key = part[4..];
            }
            else
            {
                error = $"'{part}' in relay '{text}' is not understood — use tcp=PORT (1–65535) or key=meshnode1:… (as 'meshrelay key' prints it)";
                return false;
            }
        }

        relay = new NetworkRelay { Address = address.ToString(), TcpPort = tcp, Key = key };
        error = null;
        return true;
    }

    /// <summary>The UDP address; false when <see cref="Address"/> is damaged (a hand-edited file).</summary>
    public bool TryGetAddress(out RelayAddress address) => RelayAddress.TryParse(Address, out address);

    /// <summary>The pinned key, when one is set and well formed.</summary>
    public NodePublicKey? PinnedKey => Key is not null && NodePublicKey.TryParse(Key, out NodePublicKey key) ? key : null;

    public override string ToString() => Address + (TcpPort is { } tcp ? $",tcp={tcp}" : "") + (Key is { } k ? $",key={k}" : "");
}

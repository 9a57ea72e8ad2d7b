using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using MeshAgent.Core.Trust;

namespace MeshAgent.Relay;

/// <summary>What <see cref="RevocationStore.TryAdd"/> made of a pushed revocation.</summary>
internal enum RevocationAddResult
{
    /// <summary>New: now enforced and saved.</summary>
    Added,

    /// <summary>Already held (or a preferred record for the same node is).</summary>
    Known,

    /// <summary>Undecodable, or its root signature does not verify.</summary>
    Invalid,

    /// <summary>For a network this relay does not serve.</summary>
    Foreign,
}

/// <summary>
/// The revocations of every network the relay serves (DESIGN §3: root-signed, kept forever), persisted in one file
/// of the state directory: one revocation per line, standard base64 of its encoding. Writes are atomic (temporary
/// file, fsync, rename), so a crash leaves the old file or the new one. Lines for networks the relay no longer
/// serves are kept as they are, so removing and re-adding an --accept-root loses nothing.
/// </summary>
/// <remarks>Thread-safe. Reads (<see cref="For"/>, <see cref="IsRevoked"/>) take no lock: they read an immutable snapshot.</remarks>
internal sealed class RevocationStore
{
    public const string FileName = "revocations";

    private readonly string? _path;
    private readonly Lock _gate = new();
    private readonly List<string> _foreignLines = [];
    private ImmutableDictionary<NetworkRootPublicKey, RevocationSet> _sets;

    /// <param name="path">The file, or null to keep revocations in memory only (tests).</param>
    public RevocationStore(string? path, IEnumerable<NetworkRootPublicKey> networks)
    {
        _path = path;
        _sets = networks.Distinct().ToImmutableDictionary(n => n, _ => RevocationSet.Empty);
    }

    public int Count => _sets.Values.Sum(s => s.Count);

    /// <summary>The revocations of <paramref name="network"/>; empty for a network not served.</summary>
    public RevocationSet For(NetworkRootPublicKey network) =>
        Volatile.Read(ref _sets).TryGetValue(network, out RevocationSet? set) ? set : RevocationSet.Empty;

    public bool IsRevoked(NetworkRootPublicKey network, NodePublicKey node) => For(network).Contains(node);

    /// <summary>
    /// Reads the file (if any). Returns one line per problem (line number and cause) for the log; bad lines are
    /// skipped, never fatal, so one damaged record cannot keep a relay from starting.
    /// </summary>
    public IReadOnlyList<string> Load()
    {
        var problems = new List<string>();
        if (_path is null || !File.Exists(_path))
        {
            return problems;
        }

        lock (_gate)
        {
            string[] lines = File.ReadAllLines(_path);
            ImmutableDictionary<NetworkRootPublicKey, RevocationSet> sets = _sets;
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(line);
                }
                catch (FormatException)
                {
                    problems.Add($"{_path}:{i + 1}: not base64; line skipped");
                    continue;
                }

                if (!Revocation.TryDecode(bytes, out Revocation? revocation, out string? error))
                {
                    problems.Add($"{_path}:{i + 1}: {error}; line skipped");
                    continue;
                }

                if (!sets.TryGetValue(revocation.NetworkKey, out RevocationSet? set))
                {
                    _foreignLines.Add(line);
                    continue;
                }

                if (!set.TryAdd(revocation, revocation.NetworkKey, out RevocationSet updated))
                {
                    problems.Add($"{_path}:{i + 1}: the revocation of {revocation.NodeKey} does not verify under its network root key (altered file?); line skipped");
                    continue;
                }

                sets = sets.SetItem(revocation.NetworkKey, updated);
            }

            Volatile.Write(ref _sets, sets);
        }

        return problems;
    }

    /// <summary>
    /// Decodes, verifies and adds a revocation; saves the file when it is new. Never throws on bad input; an I/O
    /// failure while saving propagates (the revocation is still enforced in memory).
    /// </summary>
    public RevocationAddResult TryAdd(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out Revocation? revocation)
    {
        if (!Revocation.TryDecode(encoded, out revocation, out _))
        {
            return RevocationAddResult.Invalid;
        }

        if (!Volatile.Read(ref _sets).TryGetValue(revocation.NetworkKey, out RevocationSet? current))
        {
            return RevocationAddResult.Foreign;
        }

        // A record already held, byte for byte, needs no signature check: members re-push what they gossip.
        if (current.TryGet(revocation.NodeKey, out Revocation? held) && held.EncodedSpan.SequenceEqual(revocation.EncodedSpan))
        {
            return RevocationAddResult.Known;
        }

        lock (_gate)
        {
            RevocationSet set = _sets[revocation.NetworkKey];
            if (!set.TryAdd(revocation, revocation.NetworkKey, out RevocationSet updated))
            {
                return RevocationAddResult.Invalid;
            }

            if (ReferenceEquals(updated, set))
            {
                return RevocationAddResult.Known;
            }

            Volatile.Write(ref _sets, _sets.SetItem(revocation.NetworkKey, updated));
            SaveLocked();
            return RevocationAddResult.Added;
        }
    }

    private void SaveLocked()
    {
        if (_path is null)
        {
            return;
        }

        var lines = new List<string> { "# meshrelay revocations: one root-signed revocation per line (base64). Kept forever; do not edit." };
        lines.AddRange(_sets.Values.SelectMany(s => s.Revocations).Select(r => Convert.ToBase64String(r.EncodedSpan)).Order(StringComparer.Ordinal));
        lines.AddRange(_foreignLines);
        StateFiles.WriteAtomically(_path, string.Join('\n', lines) + "\n", secret: false);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;

namespace MeshAgent.Relay;

/// <summary>How a nonce in an Auth frame checked out.</summary>
internal enum NonceCheck
{
    Valid,

    /// <summary>Not issued by this relay process for this client key and link (forged, from another link, or from before a restart).</summary>
    Unknown,

    /// <summary>Issued here, but longer ago than the challenge lifetime.</summary>
    Expired,
}

/// <summary>
/// Stateless challenges, in the spirit of SYN cookies and WireGuard's cookie: the relay keeps nothing per
/// ClientHello, so a flood of spoofed Hellos costs it no memory. The nonce carries its own proof of origin:
/// <code>
///  0                 8                 16                                32
/// +-----------------+-----------------+---------------------------------+
/// | issued (ms, BE) | random (8)      | MAC (16)                        |
/// +-----------------+-----------------+---------------------------------+
/// MAC = BLAKE2s-128(key = per-process secret, issued ‖ random ‖ client key ‖ link binding)
/// </code>
/// "issued" is milliseconds of the monotonic clock since this issuer started (wall-clock steps cannot stretch a
/// challenge's life). The link binding (<see cref="RelayLink.WriteBinding"/>) ties the nonce to the UDP source
/// endpoint or TCP connection that received the Challenge, so a valid Auth proves the client can receive there
/// (return routability) and cannot be replayed from elsewhere. A new secret per process makes every challenge of
/// a previous run unknown.
/// </summary>
internal sealed class ChallengeIssuer
{
    private const int IssuedOffset = 0;
    private const int RandomOffset = 8;
    private const int MacOffset = 16;

    private readonly byte[] _secret = new byte[32];
    private readonly TimeProvider _time;
    private readonly Action<Span<byte>> _random;
    private readonly long _origin;

    public ChallengeIssuer(TimeProvider time, TimeSpan lifetime, Action<Span<byte>> random)
    {
        _time = time;
        _random = random;
        Lifetime = lifetime;
        _origin = time.GetTimestamp();
        random(_secret);
    }

    public TimeSpan Lifetime { get; }

    /// <summary>Milliseconds of the challenge clock now.</summary>
    public long NowMilliseconds => (long)_time.GetElapsedTime(_origin).TotalMilliseconds;

    public RelayNonce Issue(NodePublicKey client, in RelayLink link)
    {
        Span<byte> nonce = stackalloc byte[RelayNonce.Length];
        BinaryPrimitives.WriteInt64BigEndian(nonce[IssuedOffset..], NowMilliseconds);
        _random(nonce.Slice(RandomOffset, 8));
        ComputeMac(nonce[..MacOffset], client, link, nonce[MacOffset..]);
        return new RelayNonce(nonce);
    }

    public NonceCheck Check(in RelayNonce nonce, NodePublicKey client, in RelayLink link, out long issued)
    {
        ReadOnlySpan<byte> bytes = nonce.AsSpan();
        issued = BinaryPrimitives.ReadInt64BigEndian(bytes[IssuedOffset..]);
        Span<byte> mac = stackalloc byte[Blake2s.MacSize];
        ComputeMac(bytes[..MacOffset], client, link, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, bytes[MacOffset..]))
        {
            return NonceCheck.Unknown;
        }

        long age = NowMilliseconds - issued;
        return age < 0 || age > (long)Lifetime.TotalMilliseconds ? NonceCheck.Expired : NonceCheck.Valid;
    }

    private void ComputeMac(ReadOnlySpan<byte> issuedAndRandom, NodePublicKey client, in RelayLink link, Span<byte> mac)
    {
        Span<byte> binding = stackalloc byte[RelayLink.BindingLength];
        link.WriteBinding(binding);
        var blake = new Blake2s(Blake2s.MacSize, _secret);
        blake.Update(issuedAndRandom);
        blake.Update(client.AsSpan());
        blake.Update(binding);
        blake.Finish(mac);
    }
}

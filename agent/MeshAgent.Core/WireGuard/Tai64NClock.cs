namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Source of TAI64N stamps for our handshake initiations that never goes backwards, even when
/// the wall clock does (no RTC, boot before NTP, manual correction): a peer drops an initiation
/// whose stamp is not strictly greater than the last one it accepted from us, so a backwards
/// clock would lock us out until the clock catches up (notes §4.6 item 3).
/// <para>
/// Contract: every stamp <see cref="Next"/> returns is strictly greater than every stamp it
/// returned before and than the persisted floor given to the constructor. When the wall clock
/// is ahead of the last stamp, the stamp is the (whitened) wall clock; otherwise it is the last
/// stamp plus one whitened step (2^24 ns, carrying into the seconds), so stamps outrun a stuck
/// clock by ≈16.8 ms per initiation, harmless at one initiation per REKEY_TIMEOUT.
/// </para>
/// <para>
/// Persistence is the engine's job. Safe order: call <see cref="Next"/>, persist that stamp
/// atomically, then send; after a restart pass the persisted stamp as the floor. Persisting
/// after sending (or at shutdown via <see cref="TryGetStampToPersist"/>) can, after a crash,
/// repeat a stamp the peer already saw, costing one rejected initiation per stamp lost.
/// </para>
/// Thread-safe: calls are serialised by an internal lock.
/// </summary>
public sealed class Tai64NClock
{
    private const uint NanosecondsPerSecond = 1_000_000_000;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private ulong _lastSeconds;
    private uint _lastNanoseconds;
    private bool _hasLast;
    private bool _issued;

    /// <param name="time">Wall clock (its <see cref="TimeProvider.GetUtcNow"/> is used).</param>
    /// <param name="lastSent">The persisted floor: the last stamp sent before a restart (12 bytes),
    /// or empty when none is known. Any 12 bytes are accepted; a floor with an out-of-range
    /// nanosecond field is simply exceeded by carrying into the seconds.</param>
    /// <exception cref="ArgumentException"><paramref name="lastSent"/> is neither empty nor 12 bytes.</exception>
    public Tai64NClock(TimeProvider time, ReadOnlySpan<byte> lastSent)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        if (lastSent.IsEmpty)
        {
            return;
        }

        if (lastSent.Length != Tai64N.Size)
        {
            throw new ArgumentException(
                $"The persisted TAI64N floor must be {Tai64N.Size} bytes (or empty when unknown) but has {lastSent.Length}; the stored file is probably truncated — delete it to start without a floor.",
                nameof(lastSent));
        }

        Tai64N.ReadRaw(lastSent, out _lastSeconds, out _lastNanoseconds);
        _hasLast = true;
    }

    /// <summary>Writes the next stamp into the first 12 bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than 12 bytes.</exception>
    /// <exception cref="InvalidOperationException">The floor is the largest possible TAI64 second, so
    /// nothing greater exists (a corrupt floor file).</exception>
    public void Next(Span<byte> destination)
    {
        if (destination.Length < Tai64N.Size)
        {
            throw new ArgumentException(
                $"A TAI64N stamp needs {Tai64N.Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }

        (ulong seconds, uint whitened) = Tai64N.Whiten(_time.GetUtcNow());

        lock (_gate)
        {
            if (_hasLast && !IsGreater(seconds, whitened, _lastSeconds, _lastNanoseconds))
            {
                (seconds, whitened) = Successor(_lastSeconds, _lastNanoseconds);
            }

            _lastSeconds = seconds;
            _lastNanoseconds = whitened;
            _hasLast = true;
            _issued = true;
        }

        Tai64N.WriteRaw(seconds, whitened, destination);
    }

    /// <summary>
    /// Copies the last stamp <see cref="Next"/> returned, for the engine to persist as the next
    /// floor. False (and nothing written) when no stamp was issued since construction: the floor
    /// passed in is then still the right thing on disk.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than 12 bytes.</exception>
    public bool TryGetStampToPersist(Span<byte> destination)
    {
        if (destination.Length < Tai64N.Size)
        {
            throw new ArgumentException(
                $"A TAI64N stamp needs {Tai64N.Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }

        ulong seconds;
        uint nanoseconds;
        lock (_gate)
        {
            if (!_issued)
            {
                return false;
            }

            seconds = _lastSeconds;
            nanoseconds = _lastNanoseconds;
        }

        Tai64N.WriteRaw(seconds, nanoseconds, destination);
        return true;
    }

    private static bool IsGreater(ulong seconds, uint nanoseconds, ulong otherSeconds, uint otherNanoseconds) =>
        seconds > otherSeconds || (seconds == otherSeconds && nanoseconds > otherNanoseconds);

    // Smallest whitened stamp at least one whitened step after (seconds, nanoseconds). Rounding
    // (n + 2^24) down to a multiple of 2^24 still exceeds n, so the result is strictly greater
    // even for a floor written by a peer that does not whiten.
    private static (ulong Seconds, uint Nanoseconds) Successor(ulong seconds, uint nanoseconds)
    {
        ulong next = (ulong)nanoseconds + Tai64N.WhitenedStepNanoseconds;
        if (next < NanosecondsPerSecond)
        {
            return (seconds, (uint)next & ~Tai64N.WhitenerMask);
        }

        if (seconds == ulong.MaxValue)
        {
            throw new InvalidOperationException(
                "The TAI64N floor is at the largest representable second, so no later stamp exists; the persisted floor is corrupt — delete it and restart.");
        }

        return (seconds + 1, 0);
    }
}

using System.Buffers.Binary;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Engine.WireGuard;

/// <summary>Keeps the TAI64N floor (12 bytes) across restarts.</summary>
public interface ITai64NFloorStore
{
    /// <summary>False when no floor was stored yet.</summary>
    bool TryLoad(Span<byte> floor);

    /// <summary>Stores the floor durably before returning.</summary>
    void Save(ReadOnlySpan<byte> floor);
}

public sealed class InMemoryTai64NFloorStore : ITai64NFloorStore
{
    private byte[]? _floor;

    public bool TryLoad(Span<byte> floor)
    {
        if (_floor is null)
        {
            return false;
        }

        _floor.CopyTo(floor);
        return true;
    }

    public void Save(ReadOnlySpan<byte> floor) => _floor = floor.ToArray();
}

/// <summary>
/// The floor in a file, written atomically (temp file, fsync, rename) so a crash leaves
/// either the old or the new floor, never a torn one.
/// </summary>
public sealed class FileTai64NFloorStore(string path) : ITai64NFloorStore
{
    public string Path { get; } = path;

    public bool TryLoad(Span<byte> floor)
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        byte[] data = File.ReadAllBytes(Path);
        if (data.Length != Tai64N.Size)
        {
            throw new InvalidDataException($"the TAI64N floor file {Path} has {data.Length} bytes instead of {Tai64N.Size}: it is damaged — delete it (the next handshake may then be refused once by peers whose clock view is newer)");
        }

        data.CopyTo(floor);
        return true;
    }

    public void Save(ReadOnlySpan<byte> floor)
    {
        string temp = Path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(floor);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path, overwrite: true);
    }
}

/// <summary>
/// Issues handshake timestamps that never go backwards across restarts, even when the wall
/// clock does (a router without RTC booting before NTP): peers drop initiations whose TAI64N
/// is not newer than the last they saw, which would lock us out until the clock catches up.
///
/// Write-ahead reservation: instead of an fsync per handshake, we persist a floor one minute
/// ahead of the stamps we issue, and only issue stamps below the persisted floor; when a stamp
/// would reach it, a new floor is persisted first. After a restart the clock starts above the
/// stored floor, so every new stamp is greater than every stamp sent before.
/// </summary>
public sealed class Tai64NStamper
{
    private static readonly ulong ReservationSeconds = 60;

    private readonly ITai64NFloorStore _store;
    private readonly Tai64NClock _clock;
    private readonly Lock _gate = new();
    private ulong _reservedSeconds;

    public Tai64NStamper(TimeProvider time, ITai64NFloorStore store)
    {
        _store = store;
        Span<byte> floor = stackalloc byte[Tai64N.Size];
        bool hasFloor = store.TryLoad(floor);
        _clock = new Tai64NClock(time, hasFloor ? floor : ReadOnlySpan<byte>.Empty);
        _reservedSeconds = hasFloor ? BinaryPrimitives.ReadUInt64BigEndian(floor) : 0;
    }

    public void Next(Span<byte> stamp)
    {
        lock (_gate)
        {
            _clock.Next(stamp);
            ulong seconds = BinaryPrimitives.ReadUInt64BigEndian(stamp);
            if (seconds >= _reservedSeconds)
            {
                Span<byte> floor = stackalloc byte[Tai64N.Size];
                floor.Clear();
                _reservedSeconds = seconds + ReservationSeconds;
                BinaryPrimitives.WriteUInt64BigEndian(floor, _reservedSeconds);
                _store.Save(floor);
            }
        }
    }
}

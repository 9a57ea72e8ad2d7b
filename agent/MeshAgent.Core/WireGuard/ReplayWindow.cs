using System.Runtime.CompilerServices;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Sliding anti-replay window for transport counters, the bitmap ring of RFC 6479 §2 as
/// wireguard-go replay/replay.go and the kernel's counter.c lay it out: 128 blocks of 64 bits
/// (8,192 bits). The block holding the newest counter is partly "in the future", so the window
/// that is always fully tracked is (128 − 1) × 64 = 8,128 counters behind the greatest one accepted.
/// <para>
/// Call <see cref="TryAccept"/> only after the packet has authenticated (a forged counter must
/// not move the window). Not thread-safe: one receive path per keypair, or the caller's lock.
/// No allocation per call; the ring is inline in the object.
/// </para>
/// </summary>
public sealed class ReplayWindow
{
    /// <summary>Number of 64-bit blocks in the ring (RFC 6479 "bitmap size" in words).</summary>
    public const int BlockCount = 128;

    private const int BitsPerBlockLog2 = 6;
    private const int BitsPerBlock = 1 << BitsPerBlockLog2;

    /// <summary>How far behind the greatest accepted counter a counter may still be accepted: 8,128.</summary>
    public const ulong WindowSize = (BlockCount - 1) * BitsPerBlock;

    private Blocks _blocks;
    private ulong _greatest;

    /// <summary>
    /// True when <paramref name="counter"/> is below <paramref name="limit"/>, not older than the
    /// window, and not seen before; it is then marked as seen. False for duplicates, counters more
    /// than <see cref="WindowSize"/> behind the greatest accepted one, and counters ≥ <paramref name="limit"/>.
    /// </summary>
    public bool TryAccept(ulong counter, ulong limit = WireGuardConstants.RejectAfterMessages)
    {
        if (counter >= limit)
        {
            return false;
        }

        ulong blockIndex = counter >> BitsPerBlockLog2;
        if (counter > _greatest)
        {
            // Moving forward: clear the blocks between the old head block (exclusive) and the new
            // one (inclusive); a jump of a whole ring or more clears everything once.
            ulong headBlock = _greatest >> BitsPerBlockLog2;
            ulong toClear = Math.Min(blockIndex - headBlock, BlockCount);
            for (ulong i = 1; i <= toClear; i++)
            {
                _blocks[(int)((headBlock + i) % BlockCount)] = 0;
            }

            _greatest = counter;
        }
        else if (_greatest - counter > WindowSize)
        {
            return false;
        }

        ref ulong block = ref _blocks[(int)(blockIndex % BlockCount)];
        ulong bit = 1UL << (int)(counter & (BitsPerBlock - 1));
        if ((block & bit) != 0)
        {
            return false;
        }

        block |= bit;
        return true;
    }

    /// <summary>Forgets every counter, as for a fresh keypair.</summary>
    public void Reset()
    {
        ((Span<ulong>)_blocks).Clear();
        _greatest = 0;
    }

    [InlineArray(BlockCount)]
    private struct Blocks
    {
        private ulong _element;
    }
}

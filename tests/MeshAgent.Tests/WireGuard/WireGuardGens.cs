using FsCheck;
using FsCheck.Fluent;

namespace MeshAgent.Tests.WireGuard;

/// <summary>FsCheck generators shared by the WireGuard codec properties.</summary>
internal static class WireGuardGens
{
    public static Gen<byte> AnyByte => ArbMap.Default.GeneratorFor<byte>();

    public static Gen<uint> AnyUInt32 => ArbMap.Default.GeneratorFor<uint>();

    /// <summary>Full-range uint64 (FsCheck's default favours small numbers; the extremes matter for counters).</summary>
    public static Gen<ulong> AnyUInt64 =>
        from hi in AnyUInt32
        from lo in AnyUInt32
        from pick in Gen.Choose(0, 3)
        select pick switch
        {
            0 => (ulong)lo,
            1 => ulong.MaxValue - lo,
            _ => ((ulong)hi << 32) | lo,
        };

    public static Gen<byte[]> Bytes(int length) => Gen.ArrayOf(AnyByte, length);

    /// <summary>Random arrays of length 0..300, the "anything off the network" input.</summary>
    public static Gen<byte[]> AnyDatagram =>
        from length in Gen.Choose(0, 300)
        from bytes in Bytes(length)
        select bytes;

    public static FsCheck.Config PropertyConfig(int maxTest = 500) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);
}

using Xunit.Sdk;

namespace MeshAgent.Tests.Support;

/// <summary>Byte comparisons that print both values in hex and say which vector case failed.</summary>
public static class AssertBytes
{
    public static void Equal(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string context)
    {
        if (!expected.SequenceEqual(actual))
        {
            throw new XunitException(
                $"{context}: bytes differ\n  expected ({expected.Length}): {Convert.ToHexStringLower(expected)}\n  actual   ({actual.Length}): {Convert.ToHexStringLower(actual)}");
        }
    }

    public static void AllZero(ReadOnlySpan<byte> actual, string context)
    {
        if (actual.ContainsAnyExcept((byte)0))
        {
            throw new XunitException($"{context}: expected all zero bytes, got {Convert.ToHexStringLower(actual)}");
        }
    }
}

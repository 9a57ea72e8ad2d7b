namespace MeshAgent.Core.Crypto;

/// <summary>
/// Argument checks shared by the primitives. Wrong key or buffer sizes are caller bugs, so they throw;
/// data from the network is never validated here by throwing (the Try* methods return false instead).
/// </summary>
internal static class CryptoArgs
{
    internal static void RequireLength(int actual, int expected, string parameterName)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{parameterName} must be exactly {expected} bytes long (it is {actual}).", parameterName);
        }
    }

    /// <summary>
    /// In-place operation means the output starts at the same address as the input. A partial overlap would
    /// make the cipher read bytes it has already overwritten, so it is rejected.
    /// </summary>
    internal static void RequireSameOrDisjoint(ReadOnlySpan<byte> input, ReadOnlySpan<byte> output, string inputName, string outputName)
    {
        if (input.Overlaps(output, out int offset) && offset != 0)
        {
            throw new ArgumentException(
                $"{outputName} overlaps {inputName} at an offset of {offset} bytes: they must either start at the same address (in place) or not overlap at all.",
                outputName);
        }
    }

    /// <summary>Constant-time check that every byte is zero.</summary>
    internal static bool IsAllZero(ReadOnlySpan<byte> data)
    {
        int accumulator = 0;
        foreach (byte b in data)
        {
            accumulator |= b;
        }

        return accumulator == 0;
    }
}

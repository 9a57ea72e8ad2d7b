namespace MeshAgent.Core.Stun;

/// <summary>
/// CRC-32 as RFC 8489 §14.7 requires for FINGERPRINT: the ISO/HDLC CRC of ITU-T V.42 and
/// ethernet (poly 0x04C11DB7 reflected = 0xEDB88320, init and xorout 0xFFFFFFFF; check value of
/// "123456789" is 0xCBF43926). Not CRC-32C: <see cref="System.Numerics.BitOperations.Crc32C(uint, byte)"/>
/// is the Castagnoli polynomial and gives different values. Table-driven, one byte a step: a
/// fingerprint covers a few dozen bytes, so slicing-by-8 would not pay for its 8 KiB of tables.
/// </summary>
internal static class StunCrc32
{
    private static readonly uint[] Table = CreateTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        uint[] table = Table;
        foreach (byte b in data)
        {
            crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

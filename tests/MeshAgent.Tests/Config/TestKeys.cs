namespace MeshAgent.Tests.Config;

/// <summary>Distinct, canonical base64 keys for config texts (any 32 bytes are a valid key encoding).</summary>
internal static class TestKeys
{
    public static string Key(int seed)
    {
        var bytes = new byte[32];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((seed * 31) + (i * 7) + 1);
        }

        return Convert.ToBase64String(bytes);
    }
}

using MeshAgent.Core.Config;
using Xunit;

namespace MeshAgent.Tests.Config;

internal static class ConfigAssert
{
    /// <summary>Peers equal in every wg(8) field (Line aside, which depends on the text layout).</summary>
    public static void SamePeers(IReadOnlyList<WgQuickPeer> expected, IReadOnlyList<WgQuickPeer> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].PublicKey, actual[i].PublicKey);
            Assert.Equal(expected[i].PresharedKey.HasValue, actual[i].PresharedKey.HasValue);
            if (expected[i].PresharedKey is PresharedKey psk)
            {
                Assert.True(psk.FixedTimeEquals(actual[i].PresharedKey!.Value));
            }

            Assert.Equal(expected[i].Endpoint, actual[i].Endpoint);
            Assert.Equal(expected[i].AllowedIPs, actual[i].AllowedIPs);
            Assert.Equal(expected[i].PersistentKeepalive, actual[i].PersistentKeepalive);
        }
    }
}

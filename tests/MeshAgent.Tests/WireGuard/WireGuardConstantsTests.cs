using System.Numerics;
using System.Text;
using MeshAgent.Core.WireGuard;
using Xunit;

namespace MeshAgent.Tests.WireGuard;

/// <summary>
/// Guards the interoperability constants against accidental edits: the expected values are the
/// whitepaper's, written as the formulas it gives rather than as pre-computed numbers.
/// </summary>
public sealed class WireGuardConstantsTests
{
    [Fact]
    public void Message_limits_are_the_whitepaper_formulas()
    {
        Assert.Equal(BigInteger.Pow(2, 60), new BigInteger(WireGuardConstants.RekeyAfterMessages));
        Assert.Equal(BigInteger.Pow(2, 64) - BigInteger.Pow(2, 13) - 1, new BigInteger(WireGuardConstants.RejectAfterMessages));
    }

    [Fact]
    public void Timers_match_the_whitepaper()
    {
        Assert.Equal(TimeSpan.FromMinutes(2), WireGuardConstants.RekeyAfterTime);
        Assert.Equal(TimeSpan.FromMinutes(3), WireGuardConstants.RejectAfterTime);
        Assert.Equal(TimeSpan.FromSeconds(90), WireGuardConstants.RekeyAttemptTime);
        Assert.Equal(TimeSpan.FromSeconds(5), WireGuardConstants.RekeyTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(334), WireGuardConstants.RekeyTimeoutJitterMax);
        Assert.Equal(TimeSpan.FromSeconds(10), WireGuardConstants.KeepaliveTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), WireGuardConstants.CookieRefreshTime);
        Assert.Equal(TimeSpan.FromSeconds(1) / 50, WireGuardConstants.HandshakeInitiationRate);
        Assert.Equal(TimeSpan.FromSeconds(1), WireGuardConstants.UnderLoadAfterTime);
        Assert.Equal(128, WireGuardConstants.UnderLoadQueueSize);
        Assert.Equal(65536, WireGuardConstants.MaxPeers);
        Assert.Equal(1420, WireGuardConstants.DefaultMtu);
    }

    [Fact]
    public void Protocol_strings_are_ascii_without_terminator()
    {
        Assert.Equal("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", Encoding.ASCII.GetString(WireGuardConstants.Construction));
        Assert.Equal(37, WireGuardConstants.Construction.Length);
        Assert.Equal("WireGuard v1 zx2c4 Jason@zx2c4.com", Encoding.ASCII.GetString(WireGuardConstants.Identifier));
        Assert.Equal("mac1----", Encoding.ASCII.GetString(WireGuardConstants.LabelMac1));
        Assert.Equal("cookie--", Encoding.ASCII.GetString(WireGuardConstants.LabelCookie));
    }

    [Fact]
    public void Message_sizes_add_up_from_their_fields()
    {
        Assert.Equal(4 + 4 + 32 + (32 + 16) + (12 + 16) + 16 + 16, HandshakeInitiation.Size);
        Assert.Equal(4 + 4 + 4 + 32 + (0 + 16) + 16 + 16, HandshakeResponse.Size);
        Assert.Equal(4 + 4 + 24 + (16 + 16), CookieReply.Size);
        Assert.Equal(HandshakeInitiation.Size - 32, HandshakeInitiation.Mac1Offset);
        Assert.Equal(HandshakeResponse.Size - 32, HandshakeResponse.Mac1Offset);
    }
}

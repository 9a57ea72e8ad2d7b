using System.Globalization;
using System.Text;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// What <c>wg-quick strip</c> does, written independently of our parser (MeshAgent.Core.Config)
/// so the wireguard-go side does not depend on the code under test: the [Interface] keys that
/// only wg-quick knows are removed, every other line is passed to <c>wg setconf</c> verbatim,
/// and Address and MTU are returned for the caller to apply with <c>ip</c>, as wg-quick does.
/// </summary>
/// <param name="SetConf">The file without wg-quick's keys: input for <c>wg setconf</c>. Contains the private key.</param>
/// <param name="Addresses">Address entries in CIDR form, in file order.</param>
public sealed record WgQuickStrip(string SetConf, IReadOnlyList<string> Addresses, int? Mtu)
{
    // wg-quick(8): the keys it handles itself; wg(8) rejects them.
    private static readonly string[] WgQuickKeys = ["Address", "MTU", "DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"];

    public static WgQuickStrip Parse(string wgQuickText)
    {
        var setConf = new StringBuilder();
        var addresses = new List<string>();
        int? mtu = null;
        bool inInterface = false;
        foreach (string line in wgQuickText.Split('\n'))
        {
            string content = line.Split('#', 2)[0].Trim();
            if (content.StartsWith('['))
            {
                inInterface = content.Equals("[Interface]", StringComparison.OrdinalIgnoreCase);
            }

            int equals = content.IndexOf('=', StringComparison.Ordinal);
            string key = equals < 0 ? "" : content[..equals].Trim();
            string value = equals < 0 ? "" : content[(equals + 1)..].Trim();
            if (inInterface && WgQuickKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                if (key.Equals("Address", StringComparison.OrdinalIgnoreCase))
                {
                    addresses.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                }
                else if (key.Equals("MTU", StringComparison.OrdinalIgnoreCase))
                {
                    mtu = int.Parse(value, CultureInfo.InvariantCulture);
                }

                continue;
            }

            setConf.Append(line).Append('\n');
        }

        return new WgQuickStrip(setConf.ToString(), addresses, mtu);
    }

    /// <summary>
    /// Starts wireguard-go in <paramref name="ns"/> from a wg-quick file, the way wg-quick would
    /// bring it up: Address and MTU with <c>ip</c> (<see cref="WireGuardGoPeer.StartAsync"/>), then
    /// <c>wg setconf</c> with the stripped file on stdin. <paramref name="privateKey"/> must be
    /// the file's, so <see cref="WireGuardGoPeer.PublicKey"/> stays right after setconf.
    /// </summary>
    public static async Task<WireGuardGoPeer> StartWireGuardGoAsync(NetworkNamespace ns, string wgQuickText, string privateKey)
    {
        WgQuickStrip strip = Parse(wgQuickText);
        WireGuardGoPeer wg = await WireGuardGoPeer.StartAsync(ns, new WireGuardGoOptions
        {
            PrivateKey = privateKey,
            Addresses = strip.Addresses,
            Mtu = strip.Mtu,
        });
        try
        {
            // stdin rather than a file: the private key never touches the disk.
            await ns.ExecAsync(["wg", "setconf", wg.InterfaceName, "/dev/stdin"], new RunOptions { StandardInput = strip.SetConf });
            return wg;
        }
        catch
        {
            await wg.DisposeAsync();
            throw;
        }
    }
}

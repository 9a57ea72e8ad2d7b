using System.Diagnostics;
using System.Text;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>
/// Proves the lab's NAT types the way NAT traversal will meet them: plain UDP hole punching
/// (<see cref="UdpPunch"/>) between every pair of site types, after each side learnt its
/// mapping from the lab's STUN server. The expected matrix is the one the shared NAT lab
/// observed (Harness/README.md, "Punch matrix"), plus our <see cref="NatType.FullCone"/> row.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class PunchMatrixTests(ITestOutputHelper output)
{
    /// <summary>
    /// Outcome of plain simultaneous open per pair of site types (symmetric: only the upper
    /// triangle is written). "direct" = both sides' probes were answered; "relay" = no direct
    /// path, a relay is needed. Two sites of each type, so a type meets another site of its kind.
    /// </summary>
    private const string ExpectedMatrix = """
                     none    cone    double  symmetric  udp-blocked  full-cone
        none         direct  direct  direct  direct     relay        direct
        cone         .       direct  direct  relay      relay        direct
        double       .       .       direct  relay      relay        direct
        symmetric    .       .       .       relay      relay        direct
        udp-blocked  .       .       .       .          relay        relay
        full-cone    .       .       .       .          .            direct
        """;

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(3);

    private static readonly Dictionary<string, NatType> Types = new()
    {
        ["none"] = NatType.None,
        ["cone"] = NatType.Cone,
        ["double"] = NatType.DoubleNat,
        ["symmetric"] = NatType.Symmetric,
        ["udp-blocked"] = NatType.UdpBlocked,
        ["full-cone"] = NatType.FullCone,
    };

    [Fact]
    public async Task Plain_udp_punching_between_every_pair_of_nat_types_gives_the_documented_matrix()
    {
        var expected = ParseMatrix(ExpectedMatrix);
        await using var lab = await Lab.CreateAsync(output);
        var stun = await lab.AddStunServerAsync();
        var build = Stopwatch.StartNew();
        // Two sites per type ("cone1", "cone2", ...); the first site of a type has two hosts for the same-LAN checks.
        var sites = new Dictionary<(string Type, int N), NatSite>();
        foreach (var (name, type) in Types)
        {
            for (var n = 1; n <= 2; n++)
            {
                sites[(name, n)] = await lab.AddNatSiteAsync(SiteName(name, n), type, hostCount: n == 1 && type is NatType.Cone or NatType.UdpBlocked or NatType.None ? 2 : 1);
            }
        }
        output.WriteLine($"lab of {lab.Namespaces.Count} namespaces built in {build.Elapsed.TotalSeconds:0.0} s");

        // Every cell, plus the same-LAN rows: (label, host A, host B, candidates, expected).
        List<(string Label, LabHost A, LabHost B, Candidates Which, string Expected)> cases = [];
        var names = Types.Keys.ToList();
        for (var i = 0; i < names.Count; i++)
        {
            for (var j = i; j < names.Count; j++)
            {
                var a = sites[(names[i], 1)].Hosts[0];
                var b = i == j ? sites[(names[j], 2)].Hosts[0] : sites[(names[j], 1)].Hosts[0];
                cases.Add(($"{names[i]} ~ {names[j]}", a, b, Candidates.All, expected[(names[i], names[j])]));
            }
        }
        foreach (var (type, viaLan, viaPublic) in new[] { ("cone", "direct", "relay"), ("udp-blocked", "direct", "relay"), ("none", "direct", "direct") })
        {
            var site = sites[(type, 1)];
            cases.Add(($"same LAN, {type}", site.Hosts[0], site.Hosts[1], Candidates.All, viaLan));
            cases.Add(($"same LAN, {type}, public candidates only", site.Hosts[0], site.Hosts[1], Candidates.PublicOnly, viaPublic));
        }

        // All pairs at once: each has its own two sockets, so they do not interfere.
        var sides = await Task.WhenAll(cases.Select(async c => (
            A: await PunchSide.OpenAsync(c.Label + " A", c.A, stun.EndPoint),
            B: await PunchSide.OpenAsync(c.Label + " B", c.B, stun.EndPoint))));
        try
        {
            var punch = Stopwatch.StartNew();
            var results = await Task.WhenAll(cases.Select((c, k) => UdpPunch.RunAsync(sides[k].A, sides[k].B, c.Which, Budget)));
            output.WriteLine($"{cases.Count} punch attempts in parallel took {punch.Elapsed.TotalSeconds:0.0} s");

            var report = new StringBuilder();
            var mismatches = new List<string>();
            for (var k = 0; k < cases.Count; k++)
            {
                var (label, a, b, which, want) = cases[k];
                var line = $"{label,-48} {want,-7} {results[k].Outcome,-7} {a.Namespace.Label}:{sides[k].A.LocalPort} mapped {Show(sides[k].A)} ~ "
                    + $"{b.Namespace.Label}:{sides[k].B.LocalPort} mapped {Show(sides[k].B)}: {results[k]}";
                report.AppendLine(line);
                if (results[k].Outcome != want)
                {
                    mismatches.Add(line);
                }
            }
            report.AppendLine();
            report.Append(FormatMatrix(names, (x, y) => results[cases.FindIndex(c => c.Label == $"{x} ~ {y}")].Outcome));
            output.WriteLine("pair                                             expected observed details\n" + report);
            Assert.True(mismatches.Count == 0, $"{mismatches.Count} cell(s) differ from the documented matrix:\n{string.Join('\n', mismatches)}\n\nall:\n{report}");
        }
        finally
        {
            foreach (var (a, b) in sides)
            {
                a.Dispose();
                b.Dispose();
            }
        }
    }

    private static string SiteName(string type, int n) => type switch
    {
        "udp-blocked" => "blk",
        "symmetric" => "sym",
        "double" => "dbl",
        "full-cone" => "full",
        _ => type,
    } + n;

    private static string Show(PunchSide side) => side.Reflexive?.ToString() ?? "-";

    /// <summary>Reads the upper-triangle table into a symmetric dictionary.</summary>
    private static Dictionary<(string, string), string> ParseMatrix(string table)
    {
        var rows = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var columns = rows[0];
        var cells = new Dictionary<(string, string), string>();
        foreach (var row in rows.Skip(1))
        {
            for (var c = 0; c < columns.Length; c++)
            {
                if (row[c + 1] != ".")
                {
                    cells[(row[0], columns[c])] = row[c + 1];
                    cells[(columns[c], row[0])] = row[c + 1];
                }
            }
        }
        return cells;
    }

    private static string FormatMatrix(IReadOnlyList<string> names, Func<string, string, string> cell)
    {
        var text = new StringBuilder($"{"observed",-13}");
        foreach (var n in names)
        {
            text.Append($"{n,-12}");
        }
        text.AppendLine();
        for (var i = 0; i < names.Count; i++)
        {
            text.Append($"{names[i],-13}");
            for (var j = 0; j < names.Count; j++)
            {
                text.Append($"{(j < i ? "." : cell(names[i], names[j])),-12}");
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}

using MeshAgent.Commands;

namespace MeshAgent.Tests.Cli;

/// <summary>The terminal QR drawing: a faithful picture of QRCoder's module matrix.</summary>
public sealed class QrTerminalTests
{
    private const string Token = "MESH1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>Reads a drawing back into modules (true = dark): the inverse of the half-block mapping.</summary>
    private static bool[,] ReadBack(string drawing, int size)
    {
        string[] lines = drawing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var modules = new bool[size, size];
        for (int line = 0; line < lines.Length; line++)
        {
            Assert.Equal(size, lines[line].Length);
            for (int x = 0; x < size; x++)
            {
                char c = lines[line][x];
                modules[2 * line, x] = c is QrTerminal.Lower or QrTerminal.Empty;
                if (2 * line + 1 < size)
                {
                    modules[2 * line + 1, x] = c is QrTerminal.Upper or QrTerminal.Empty;
                }
                else
                {
                    Assert.True(c is QrTerminal.Full or QrTerminal.Lower, "the row past the last one must be drawn light");
                }
            }
        }

        return modules;
    }

    [Fact]
    public void Drawing_reads_back_to_the_exact_module_matrix()
    {
        bool[,] modules = QrTerminal.Encode(Token);
        int size = modules.GetLength(0);

        string drawing = QrTerminal.Render(modules);

        Assert.Equal((size + 1) / 2, drawing.Count(c => c == '\n'));
        Assert.Equal(modules, ReadBack(drawing, size));
    }

    [Fact]
    public void Matrix_is_a_qr_symbol_with_quiet_zone_and_finder_patterns()
    {
        bool[,] modules = QrTerminal.Encode(Token);
        int size = modules.GetLength(0);
        const int quiet = 4;
        int symbol = size - (2 * quiet);

        // ISO/IEC 18004 §5.3.1: versions 1..40 are 21..177 modules, 17 + 4·version.
        Assert.Equal(0, (symbol - 17) % 4);
        Assert.InRange((symbol - 17) / 4, 1, 40);
        for (int i = 0; i < size; i++)
        {
            Assert.False(modules[0, i] || modules[i, 0] || modules[size - 1, i] || modules[i, size - 1], "the quiet zone must be light");
        }

        // Finder pattern (§6.3.3): a dark 7×7 ring, a light 5×5 ring, a dark 3×3 core, in three corners.
        foreach ((int top, int left) in new[] { (quiet, quiet), (quiet, size - quiet - 7), (size - quiet - 7, quiet) })
        {
            for (int y = 0; y < 7; y++)
            {
                for (int x = 0; x < 7; x++)
                {
                    int ring = Math.Min(Math.Min(x, y), Math.Min(6 - x, 6 - y));
                    Assert.Equal(ring != 1, modules[top + y, left + x]);
                }
            }
        }
    }

    [Fact]
    public void Realistic_tokens_fit_an_80_column_terminal()
    {
        // A join token is at most 399 characters (JoinToken.MaxLength); alphanumeric mode at level L keeps that under 80 columns.
        string longest = "MESH1:" + new string('A', MeshAgent.Core.Invitations.JoinToken.MaxLength - 6);
        string drawing = QrTerminal.Render(longest);
        Assert.All(drawing.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.True(line.Length <= 80, $"{line.Length} columns"));
    }
}

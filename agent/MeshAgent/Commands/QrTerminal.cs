using System.Collections;
using System.Text;
using QRCoder;

namespace MeshAgent.Commands;

/// <summary>
/// Draws a QR code in a terminal with Unicode half blocks: one text line holds two module rows, so the
/// code keeps its square shape at the usual 1:2 cell aspect. QRCoder does the encoding (ISO/IEC 18004);
/// the drawing is ours.
/// </summary>
/// <remarks>
/// Like <c>qrencode -t UTF8</c>, the light modules (and the 4-module quiet zone) are drawn in the
/// foreground colour and the dark modules are left as background: on the usual light-on-dark terminal
/// that shows dark modules on a light field, which is what scanners expect.
/// The token is given in upper case (<see cref="Engine.Control.InviteResult.QrText"/>) so QRCoder picks the
/// alphanumeric mode, about 30% fewer modules than byte mode.
/// </remarks>
public static class QrTerminal
{
    public const char Full = '█';
    public const char Upper = '▀';
    public const char Lower = '▄';
    public const char Empty = ' ';

    /// <summary>The module matrix (true = dark), quiet zone included, at error correction level L (screens are not damaged paper; a smaller code scans more easily).</summary>
    public static bool[,] Encode(string text)
    {
        using var generator = new QRCodeGenerator();
        using QRCodeData data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
        List<BitArray> rows = data.ModuleMatrix;
        int size = rows.Count;
        var modules = new bool[size, size];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                modules[y, x] = rows[y][x];
            }
        }

        return modules;
    }

    /// <summary>The code for <paramref name="text"/>, ⌈size/2⌉ lines of size characters, each ending in '\n'.</summary>
    public static string Render(string text) => Render(Encode(text));

    public static string Render(bool[,] modules)
    {
        int size = modules.GetLength(0);
        var output = new StringBuilder((size + 1) * ((size + 1) / 2));
        for (int y = 0; y < size; y += 2)
        {
            for (int x = 0; x < size; x++)
            {
                // Drawn = light module (see remarks); past the last row counts as light, like the quiet zone.
                bool top = !modules[y, x];
                bool bottom = y + 1 >= size || !modules[y + 1, x];
                output.Append((top, bottom) switch
                {
                    (true, true) => Full,
                    (true, false) => Upper,
                    (false, true) => Lower,
                    _ => Empty,
                });
            }

            output.Append('\n');
        }

        return output.ToString();
    }
}

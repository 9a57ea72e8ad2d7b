using System.CommandLine;
using System.Diagnostics;
using MeshAgent.Commands;
using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.Commands;

public class KeyCommandsTests
{
    private static (int ExitCode, string Output, string Error) PubKey(string input)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = KeyCommands.PubKey(new StringReader(input), output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Genkey_prints_44_characters_of_base64_and_a_newline_encoding_a_clamped_key()
    {
        var output = new StringWriter();
        Assert.Equal(ExitCodes.Success, KeyCommands.GenKey(output));

        string text = output.ToString();
        Assert.Equal(45, text.Length);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        byte[] key = Convert.FromBase64String(text.TrimEnd('\n'));
        Assert.Equal(32, key.Length);
        Assert.Equal(0, key[0] & 7);
        Assert.Equal(0x40, key[31] & 0xC0);
    }

    [Fact]
    public void Pubkey_of_rfc7748_alices_private_key_is_alices_public_key()
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "x25519-rfc7748-dh.txt"));
        string privateKey = Convert.ToBase64String(c.Hex("alice_private"));

        var (exitCode, output, error) = PubKey(privateKey + "\n");

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(Convert.ToBase64String(c.Hex("alice_public")) + "\n", output);
        Assert.Empty(error);
    }

    [Theory]
    [InlineData("  {0}  \n\n")]
    [InlineData("\t{0}\r\n")]
    [InlineData("{0}")]
    public void Pubkey_ignores_surrounding_whitespace(string template)
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "x25519-rfc7748-dh.txt"));
        string input = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Convert.ToBase64String(c.Hex("bob_private")));
        var (exitCode, output, _) = PubKey(input);
        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(Convert.ToBase64String(c.Hex("bob_public")) + "\n", output);
    }

    [Theory]
    [InlineData("", "got empty input")]
    [InlineData("not a key at all", "got 16 characters")]
    [InlineData("d2lyZWd1YXJk", "got 12 characters")] // base64, but of 9 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "got 48 characters")] // 36 bytes
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", "got 43 characters")] // padding missing
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=", "got 44 characters that are not canonical")] // non-zero padding bits
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L o=", "got 44 characters that are not canonical")] // space inside
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\ndwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "got 89 characters")]
    public void Pubkey_rejects_anything_but_one_canonical_key_with_one_line_and_exit_code_2(string input, string detail)
    {
        var (exitCode, output, error) = PubKey(input);

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Empty(output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("pubkey: the input is not a base64 WireGuard private key (expected 44 characters of base64 encoding 32 bytes, ", line, StringComparison.Ordinal);
        Assert.Contains(detail, line, StringComparison.Ordinal);
        Assert.EndsWith("— pipe the output of 'meshagent genkey' or 'wg genkey'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Pubkey_does_not_echo_the_secret_it_rejects()
    {
        string almostKey = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=";
        var (_, _, error) = PubKey(almostKey);
        Assert.DoesNotContain("dwdtCnMY", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Pubkey_rejects_very_long_input_without_reading_it_all()
    {
        var (exitCode, _, error) = PubKey(new string('A', 100_000));
        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Contains("more than 4096 characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Genkey_runs_through_the_command_line_parser()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = MeshAgent.Program.CreateRootCommand().Parse(["genkey"]).Invoke(new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Empty(error.ToString());
        Assert.True(KeyCommands.TryParseKey(output.ToString().TrimEnd('\n'), new byte[32]), $"not a key: '{output}'");
    }

    [Fact]
    public void The_executable_reads_stdin_and_prints_the_public_key()
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "x25519-rfc7748-dh.txt"));
        string meshagent = Path.Combine(AppContext.BaseDirectory, "meshagent.dll");
        Assert.True(File.Exists(meshagent), $"{meshagent} is missing: the test project should copy the meshagent build output");

        var (exitCode, output, error) = RunProcess(DotnetHost(), [meshagent, "pubkey"], Convert.ToBase64String(c.Hex("alice_private")) + "\n");

        Assert.True(exitCode == 0, $"meshagent pubkey exited with {exitCode}: {error}");
        Assert.Equal(Convert.ToBase64String(c.Hex("alice_public")) + "\n", output);

        (exitCode, output, error) = RunProcess(DotnetHost(), [meshagent, "pubkey"], "garbage\n");
        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Empty(output);
        Assert.StartsWith("pubkey: the input is not a base64 WireGuard private key", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Interop with the real tool: wireguard-tools is installed by .ci/run, so this must run (never skip).
    /// Covers keys from our genkey, keys from wg genkey, and unclamped random bytes (both sides clamp).
    /// </summary>
    [Fact]
    public void Pubkey_matches_wg_pubkey_for_keys_from_both_tools()
    {
        string wg = FindWg();
        var keys = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var output = new StringWriter();
            KeyCommands.GenKey(output);
            keys.Add(output.ToString().Trim());

            var (wgExit, wgKey, wgError) = RunProcess(wg, ["genkey"], "");
            Assert.True(wgExit == 0, $"wg genkey exited with {wgExit}: {wgError}");
            keys.Add(wgKey.Trim());

            byte[] unclamped = new byte[32];
            SecureRandom.Fill(unclamped);
            unclamped[0] |= 7;
            unclamped[31] |= 0x80;
            keys.Add(Convert.ToBase64String(unclamped));
        }

        foreach (string key in keys)
        {
            var (wgExit, wgPublic, wgError) = RunProcess(wg, ["pubkey"], key + "\n");
            Assert.True(wgExit == 0, $"wg pubkey exited with {wgExit}: {wgError}");

            var (exitCode, ourPublic, error) = PubKey(key + "\n");
            Assert.True(exitCode == 0, $"meshagent pubkey failed: {error}");
            Assert.Equal(wgPublic, ourPublic);
        }
    }

    [Theory]
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=")] // non-zero padding bits
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo")] // padding missing
    [InlineData("d2lyZWd1YXJk")]
    public void Inputs_that_wg_pubkey_rejects_are_rejected_too(string input)
    {
        var (wgExit, wgPublic, _) = RunProcess(FindWg(), ["pubkey"], input + "\n");
        Assert.NotEqual(0, wgExit);
        Assert.Empty(wgPublic);

        var (exitCode, output, _) = PubKey(input + "\n");
        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Empty(output);
    }

    private static string FindWg()
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string directory in directories.Append("/usr/bin").Append("/usr/sbin"))
        {
            string candidate = Path.Combine(directory, "wg");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail("wg (from wireguard-tools) is not installed, so meshagent pubkey cannot be checked against it: " +
                    "install it with 'apt-get install wireguard-tools' (.ci/run does this)");
        return "";
    }

    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>Runs a process we start ourselves, feeds stdin, and kills only that process if it hangs.</summary>
    private static (int ExitCode, string Output, string Error) RunProcess(string fileName, string[] arguments, string input)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {fileName}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            Assert.Fail($"{fileName} {string.Join(' ', arguments)} did not finish within 30 s");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}

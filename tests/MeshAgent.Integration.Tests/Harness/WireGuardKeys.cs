namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Keys made by the reference tool (<c>wg genkey</c>, <c>wg pubkey</c>, <c>wg genpsk</c>), so an
/// interop test never depends on our own Curve25519 to produce the keys it checks.
/// All keys are base64 (44 characters), as <c>wg</c> prints them.
/// </summary>
public static class WireGuardKeys
{
    public static async Task<string> GeneratePrivateKeyAsync()
        => (await ProcessRunner.RunAsync("wg", "genkey")).StandardOutput.Trim();

    public static async Task<string> PublicKeyAsync(string privateKey)
        => (await ProcessRunner.RunAsync(["wg", "pubkey"], new RunOptions { StandardInput = privateKey + "\n" })).StandardOutput.Trim();

    public static async Task<string> GeneratePresharedKeyAsync()
        => (await ProcessRunner.RunAsync("wg", "genpsk")).StandardOutput.Trim();
}

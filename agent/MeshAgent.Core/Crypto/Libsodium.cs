using System.Runtime.CompilerServices;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// Initialises libsodium once, before the first native call. Every public type in this namespace that
/// calls into libsodium calls <see cref="EnsureInitialized"/> first; after the first success it costs
/// one volatile read.
/// </summary>
internal static class Libsodium
{
    private static volatile bool s_initialized;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void EnsureInitialized()
    {
        if (!s_initialized)
        {
            Initialize();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Initialize()
    {
        // sodium_init is itself thread-safe and idempotent, so racing first callers are harmless.
        RunInit(static () => Interop.Sodium.sodium_init(), Interop.Sodium.LibraryName);
        s_initialized = true;
    }

    /// <summary>
    /// Runs <paramref name="sodiumInit"/> and turns the two ways it can fail into errors a person can act on.
    /// Separate from <see cref="Initialize"/> so tests can exercise the failure paths without removing the library.
    /// </summary>
    internal static void RunInit(Func<int> sodiumInit, string libraryName)
    {
        int result;
        try
        {
            result = sodiumInit();
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException(MissingLibraryMessage(libraryName), e);
        }

        // 0: initialised now; 1: already initialised; -1: failure (in practice, no usable randomness source).
        if (result < 0)
        {
            throw new InvalidOperationException(InitFailedMessage(libraryName, result));
        }
    }

    internal static string MissingLibraryMessage(string libraryName) =>
        $"libsodium could not be loaded ({libraryName}): install the Debian package libsodium23 (apt-get install libsodium23)";

    internal static string InitFailedMessage(string libraryName, int result) =>
        $"sodium_init() in {libraryName} failed (returned {result}): libsodium could not initialise its random number " +
        "generator — check that getrandom(2) or /dev/urandom is available to this process (seccomp profile, chroot without /dev)";
}

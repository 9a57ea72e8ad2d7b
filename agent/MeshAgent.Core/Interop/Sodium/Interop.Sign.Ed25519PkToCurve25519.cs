using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    /// <summary>
    /// Maps an Ed25519 public key (Edwards point) to the X25519 public key (Montgomery u-coordinate) of the
    /// same secret. Returns -1 when <paramref name="ed25519_pk"/> is not a valid, non-small-order point.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_ed25519_pk_to_curve25519(byte* curve25519_pk, byte* ed25519_pk);
}

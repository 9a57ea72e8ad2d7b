using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

/// <summary>
/// Owns one <c>EVP_CIPHER_CTX*</c>: <see cref="LibCrypto.EVP_CIPHER_CTX_free"/> runs exactly once, on
/// Dispose or, if the owner forgot, from the critical finalizer. Freeing cleanses the key schedule.
/// </summary>
internal sealed class SafeEvpCipherCtxHandle : SafeHandle
{
    public SafeEvpCipherCtxHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_CIPHER_CTX_free(handle);
        return true;
    }
}

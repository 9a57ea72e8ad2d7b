using System.Buffers;
using System.Text;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Trust;

/// <summary>
/// Domain-separated Ed25519: the signed message is <c>ASCII(context) ‖ 0x00 ‖ body</c>. The root key signs
/// certificates and revocations and a node key signs its member state (and, later, other protocol
/// messages); a distinct context per purpose means a signature made for one can never be replayed as
/// another, whatever the bodies happen to look like. The NUL makes contexts prefix-free.
/// </summary>
/// <remarks>Contexts in use are listed in <see cref="SigningContexts"/>; add new ones there.</remarks>
internal static class ContextSignature
{
    private const int StackLimit = 1024;

    public static void Sign(ReadOnlySpan<byte> secretKey, string context, ReadOnlySpan<byte> body, Span<byte> signature)
    {
        int length = MessageLength(context, body);
        byte[]? rented = length > StackLimit ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> message = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        Compose(context, body, message);
        Ed25519.Sign(secretKey, message, signature);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static bool Verify(ReadOnlySpan<byte> publicKey, string context, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        int length = MessageLength(context, body);
        byte[]? rented = length > StackLimit ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> message = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        Compose(context, body, message);
        bool valid = Ed25519.Verify(publicKey, message, signature);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return valid;
    }

    private static int MessageLength(string context, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(context);
        foreach (char c in context)
        {
            if (c is < (char)0x20 or > (char)0x7e)
            {
                throw new ArgumentException($"a signing context is printable ASCII; '{context}' is not", nameof(context));
            }
        }

        return context.Length + 1 + body.Length;
    }

    private static void Compose(string context, ReadOnlySpan<byte> body, Span<byte> message)
    {
        int written = Encoding.ASCII.GetBytes(context, message);
        message[written] = 0;
        body.CopyTo(message[(written + 1)..]);
    }
}

using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// ChaCha20-Poly1305 with a 96-bit nonce (RFC 8439 §2.8) through OpenSSL 3's EVP interface, bound to one key.
/// Same results and the same span shape as <see cref="ChaCha20Poly1305Ietf"/> (ciphertext = encrypted
/// plaintext ‖ 16-byte tag, in place when the output starts at the input's address), but faster for
/// packet-sized messages on x86-64: OpenSSL's ChaCha20 and Poly1305 assembly has AVX-512 paths, libsodium's
/// stops at AVX2 (ChaCha20) and SSE2 (Poly1305). Allocation-free after the first use of each direction.
/// </summary>
/// <remarks>
/// <para>
/// The key is installed once per EVP context; each message only sets its IV, which restarts the AEAD state
/// (no per-message key schedule or context allocation). One context seals, another opens; each is created on
/// first use, so an instance that only ever seals holds one native context.
/// </para>
/// <para>
/// <b>Not thread-safe.</b> A context carries per-message state between the native calls of one operation, so
/// at most one thread may use an instance at a time: keep one instance per thread (or per thread and
/// direction), or rent instances from a pool. Dispose must not race with use.
/// </para>
/// <para>
/// Opening decrypts before the tag is checked (OpenSSL streams); on a bad tag the output is zeroed before
/// <see cref="TryOpen(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> returns false,
/// so callers never see unauthenticated plaintext.
/// </para>
/// </remarks>
public sealed class OpenSslChaCha20Poly1305 : IDisposable
{
    public const int KeySize = 32, NonceSize = 12, TagSize = 16;

    private static readonly Lazy<string?> s_unavailableReason = new(ProbeLibrary);

    // Kept (pinned, so the GC leaves no copies) only to create the second context on first use; wiped on Dispose.
    private readonly byte[] _key = GC.AllocateArray<byte>(KeySize, pinned: true);
    private SafeEvpCipherCtxHandle? _encryptHandle;
    private SafeEvpCipherCtxHandle? _decryptHandle;
    private nint _encrypt;
    private nint _decrypt;
    private bool _disposed;

    /// <summary>
    /// Binds a 32-byte key. Throws <see cref="DllNotFoundException"/> with install advice when OpenSSL 3 is
    /// missing (check <see cref="IsSupported"/> first to fall back instead).
    /// </summary>
    public OpenSslChaCha20Poly1305(ReadOnlySpan<byte> key)
    {
        CryptoArgs.RequireLength(key.Length, KeySize, nameof(key));
        if (s_unavailableReason.Value is { } reason)
        {
            throw new DllNotFoundException(reason);
        }

        key.CopyTo(_key);
    }

    /// <summary>True when <c>libcrypto.so.3</c> loads and provides ChaCha20-Poly1305. Probed once.</summary>
    public static bool IsSupported => s_unavailableReason.Value is null;

    /// <summary>Encrypts and authenticates. <paramref name="ciphertext"/>.Length must be plaintext.Length + <see cref="TagSize"/>.</summary>
    public unsafe void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertext)
    {
        CryptoArgs.RequireLength(nonce.Length, NonceSize, nameof(nonce));
        CryptoArgs.RequireLength(ciphertext.Length, plaintext.Length + TagSize, nameof(ciphertext));
        CryptoArgs.RequireSameOrDisjoint(plaintext, ciphertext, nameof(plaintext), nameof(ciphertext));
        nint ctx = _encrypt != 0 ? _encrypt : CreateContext(encrypt: true);
        int length = plaintext.Length;
        bool ok;
        fixed (byte* iv = nonce)
        fixed (byte* m = plaintext)
        fixed (byte* ad = associatedData)
        fixed (byte* c = ciphertext)
        {
            int written;
            ok = LibCrypto.EVP_EncryptInit_ex(ctx, 0, 0, null, iv) == 1
                && (associatedData.Length == 0 || LibCrypto.EVP_EncryptUpdate(ctx, null, &written, ad, associatedData.Length) == 1)
                && (length == 0 || (LibCrypto.EVP_EncryptUpdate(ctx, c, &written, m, length) == 1 && written == length))
                && LibCrypto.EVP_EncryptFinal_ex(ctx, c + length, &written) == 1 && written == 0
                && LibCrypto.EVP_CIPHER_CTX_ctrl(ctx, LibCrypto.EVP_CTRL_AEAD_GET_TAG, TagSize, c + length) == 1;
        }

        if (!ok)
        {
            throw new CryptographicException($"OpenSSL ChaCha20-Poly1305 encryption of {length} bytes failed in {LibCrypto.LibraryName}: {TakeErrors()}");
        }
    }

    /// <summary>
    /// Verifies and decrypts. Returns false when authentication fails or <paramref name="ciphertext"/> is shorter
    /// than a tag; <paramref name="plaintext"/> is then all zero. <paramref name="plaintext"/>.Length must be
    /// ciphertext.Length - <see cref="TagSize"/>. Never throws on the content of <paramref name="ciphertext"/>.
    /// </summary>
    public unsafe bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        CryptoArgs.RequireLength(nonce.Length, NonceSize, nameof(nonce));
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        CryptoArgs.RequireLength(plaintext.Length, ciphertext.Length - TagSize, nameof(plaintext));
        CryptoArgs.RequireSameOrDisjoint(ciphertext, plaintext, nameof(ciphertext), nameof(plaintext));
        nint ctx = _decrypt != 0 ? _decrypt : CreateContext(encrypt: false);
        int length = plaintext.Length;
        bool ok;
        fixed (byte* iv = nonce)
        fixed (byte* c = ciphertext)
        fixed (byte* ad = associatedData)
        fixed (byte* m = plaintext)
        {
            int written;
            byte none;
            // The tag is copied into the context before decryption can overwrite anything (in place, the
            // plaintext ends where the tag begins, so it would not anyway).
            ok = LibCrypto.EVP_DecryptInit_ex(ctx, 0, 0, null, iv) == 1
                && LibCrypto.EVP_CIPHER_CTX_ctrl(ctx, LibCrypto.EVP_CTRL_AEAD_SET_TAG, TagSize, c + length) == 1
                && (associatedData.Length == 0 || LibCrypto.EVP_DecryptUpdate(ctx, null, &written, ad, associatedData.Length) == 1)
                && (length == 0 || (LibCrypto.EVP_DecryptUpdate(ctx, m, &written, c, length) == 1 && written == length))
                && LibCrypto.EVP_DecryptFinal_ex(ctx, length == 0 ? &none : m + length, &written) == 1;
        }

        if (!ok)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            // A forged packet is routine; leave nothing in this thread's error queue for the next OpenSSL user.
            LibCrypto.ERR_clear_error();
        }

        return ok;
    }

    /// <summary><see cref="Seal(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with a counter nonce (<see cref="ChaCha20Poly1305Ietf.WriteCounterNonce"/>).</summary>
    public void Seal(ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        ChaCha20Poly1305Ietf.WriteCounterNonce(counter, nonce);
        Seal(nonce, plaintext, associatedData, ciphertext);
    }

    /// <summary><see cref="TryOpen(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with a counter nonce (<see cref="ChaCha20Poly1305Ietf.WriteCounterNonce"/>).</summary>
    public bool TryOpen(ulong counter, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        ChaCha20Poly1305Ietf.WriteCounterNonce(counter, nonce);
        return TryOpen(nonce, ciphertext, associatedData, plaintext);
    }

    /// <summary>Frees both contexts (OpenSSL cleanses them) and wipes the key copy. Idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        _encrypt = 0;
        _decrypt = 0;
        _encryptHandle?.Dispose();
        _decryptHandle?.Dispose();
        CryptographicOperations.ZeroMemory(_key);
    }

    /// <summary>Creates the context for one direction with the cipher and key installed; first use only.</summary>
    private unsafe nint CreateContext(bool encrypt)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SafeEvpCipherCtxHandle handle = LibCrypto.EVP_CIPHER_CTX_new();
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new OutOfMemoryException($"EVP_CIPHER_CTX_new returned NULL in {LibCrypto.LibraryName}: {TakeErrors()}");
        }

        nint ctx = handle.DangerousGetHandle();
        nint cipher = LibCrypto.EVP_chacha20_poly1305();
        bool ok;
        fixed (byte* key = _key)
        {
            // Cipher first, then the IV length (12 is the default; set so a different default could not slip in),
            // then the key. The IV comes with each message.
            ok = encrypt
                ? LibCrypto.EVP_EncryptInit_ex(ctx, cipher, 0, null, null) == 1
                  && LibCrypto.EVP_CIPHER_CTX_ctrl(ctx, LibCrypto.EVP_CTRL_AEAD_SET_IVLEN, NonceSize, null) == 1
                  && LibCrypto.EVP_EncryptInit_ex(ctx, 0, 0, key, null) == 1
                : LibCrypto.EVP_DecryptInit_ex(ctx, cipher, 0, null, null) == 1
                  && LibCrypto.EVP_CIPHER_CTX_ctrl(ctx, LibCrypto.EVP_CTRL_AEAD_SET_IVLEN, NonceSize, null) == 1
                  && LibCrypto.EVP_DecryptInit_ex(ctx, 0, 0, key, null) == 1;
        }

        if (!ok)
        {
            handle.Dispose();
            throw new CryptographicException(
                $"setting up an OpenSSL ChaCha20-Poly1305 {(encrypt ? "encryption" : "decryption")} context failed in {LibCrypto.LibraryName}: {TakeErrors()}. " +
                "Is the default provider available (OPENSSL_CONF, FIPS-only configuration)?");
        }

        if (encrypt)
        {
            _encryptHandle = handle;
            _encrypt = ctx;
        }
        else
        {
            _decryptHandle = handle;
            _decrypt = ctx;
        }

        return ctx;
    }

    /// <summary>Drains this thread's OpenSSL error queue into one line for an error message.</summary>
    private static unsafe string TakeErrors()
    {
        var text = new StringBuilder();
        byte* buffer = stackalloc byte[256];
        for (CULong error = LibCrypto.ERR_get_error(); error.Value != 0; error = LibCrypto.ERR_get_error())
        {
            LibCrypto.ERR_error_string_n(error, buffer, 256);
            text.Append(text.Length == 0 ? "" : "; ").Append(Marshal.PtrToStringUTF8((nint)buffer));
        }

        return text.Length == 0 ? "no OpenSSL error reported" : text.ToString();
    }

    private static string? ProbeLibrary()
    {
        try
        {
            return LibCrypto.EVP_chacha20_poly1305() != 0
                ? null
                : $"{LibCrypto.LibraryName} has no ChaCha20-Poly1305 (built with OPENSSL_NO_CHACHA).";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"{LibCrypto.LibraryName} (OpenSSL 3) could not be loaded ({e.Message}). " +
                "Install it (Debian/Ubuntu: apt-get install libssl3), or use ChaCha20Poly1305Ietf (libsodium) instead.";
        }
    }
}

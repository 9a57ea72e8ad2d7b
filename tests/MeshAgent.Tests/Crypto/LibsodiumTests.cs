using MeshAgent.Core.Crypto;
using Xunit;

namespace MeshAgent.Tests.Crypto;

public class LibsodiumTests
{
    [Fact]
    public void The_missing_library_message_names_the_file_and_the_debian_package()
    {
        Assert.Equal(
            "libsodium could not be loaded (libsodium.so.23): install the Debian package libsodium23 (apt-get install libsodium23)",
            Libsodium.MissingLibraryMessage(Core.Interop.Sodium.LibraryName));
    }

    [Fact]
    public void A_load_failure_is_rethrown_with_that_message_and_the_loader_error_kept_inside()
    {
        var loaderError = new DllNotFoundException("libsodium.so.23: cannot open shared object file: No such file or directory");
        var e = Assert.Throws<DllNotFoundException>(() => Libsodium.RunInit(() => throw loaderError, "libsodium.so.23"));
        Assert.Equal(Libsodium.MissingLibraryMessage("libsodium.so.23"), e.Message);
        Assert.Same(loaderError, e.InnerException);
    }

    [Fact]
    public void An_init_failure_says_what_to_check()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Libsodium.RunInit(() => -1, "libsodium.so.23"));
        Assert.Contains("sodium_init() in libsodium.so.23 failed (returned -1)", e.Message, StringComparison.Ordinal);
        Assert.Contains("/dev/urandom", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Success_codes_are_accepted(int result)
    {
        Libsodium.RunInit(() => result, "libsodium.so.23");
    }

    [Fact]
    public void The_installed_library_loads_and_initialises()
    {
        Libsodium.EnsureInitialized();
        Span<byte> random = stackalloc byte[32];
        SecureRandom.Fill(random);
        Assert.True(random.ContainsAnyExcept((byte)0), "32 random bytes were all zero");
    }
}

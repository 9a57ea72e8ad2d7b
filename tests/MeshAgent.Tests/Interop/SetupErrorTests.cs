using MeshAgent.Core.Interop.Linux;
using MeshAgent.Core.Net;
using Xunit;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;

namespace MeshAgent.Tests.Interop;

/// <summary>Errors written for the person who must fix them (STYLE rule 13), where no privilege is needed to provoke them.</summary>
public sealed class SetupErrorTests
{
    [Fact]
    public void Errno_descriptions_are_lower_case_with_the_c_name()
    {
        Assert.Equal("file exists (EEXIST)", Errno.Describe(Libc.EEXIST));
        Assert.Equal("permission denied (EPERM)", Errno.Describe(Libc.EPERM));
        Assert.Equal("no such device (ENODEV)", Errno.Describe(Libc.ENODEV));
        Assert.EndsWith("(errno 4000)", Errno.Describe(4000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("..")]
    public void Invalid_tun_names_are_refused_before_any_syscall(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TunDevice.Create(name));
        Assert.Contains("not a valid interface name", error.Message);
    }

    [Fact]
    public void Offloads_without_the_virtio_header_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => TunDevice.Create("mesh0", new TunOptions { VirtioHeader = false }));
        Assert.Contains("need the virtio header", error.Message);
        error = Assert.Throws<ArgumentException>(() => TunDevice.Create("mesh0", new TunOptions { Offloads = TunOffloads.Tso4 }));
        Assert.Contains("need TunOffloads.Checksum", error.Message);
    }

    [Fact]
    public void Entering_a_missing_namespace_says_how_to_create_it()
    {
        var error = Assert.Throws<NativeCallException>(() => NetNs.Enter("meshagent-no-such-ns"));
        Assert.Equal(Libc.ENOENT, error.Errno);
        Assert.Equal(
            "entering network namespace meshagent-no-such-ns failed: opening /run/netns/meshagent-no-such-ns: "
            + "no such file or directory (ENOENT) — create it with 'ip netns add meshagent-no-such-ns'",
            error.Message);
        Assert.Throws<ArgumentException>(() => NetNs.Enter("../etc"));
    }
}

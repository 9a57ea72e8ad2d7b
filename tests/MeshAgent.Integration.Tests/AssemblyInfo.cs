using System.Runtime.Versioning;

// Network namespaces, veth, nftables and wireguard-go: these tests exist only on Linux.
[assembly: SupportedOSPlatform("linux")]

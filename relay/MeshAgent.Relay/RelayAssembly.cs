using System.Runtime.Versioning;

// meshrelay runs on Linux only: its UDP loop is recvmmsg/sendmmsg (Core/Net), its state files use Unix modes.
[assembly: SupportedOSPlatform("linux")]

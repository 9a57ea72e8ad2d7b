using System.Runtime.Versioning;
using System.Text;
using MeshAgent.Core.Interop.Linux;
using MeshAgent.Core.Net;
using MeshAgent.Engine.State;

namespace MeshAgent.Tests.StateFiles;

/// <summary>AtomicFile: old-or-new content, final mode before the name appears, fsyncs in order, no leftovers.</summary>
[SupportedOSPlatform("linux")]
public sealed class AtomicFileTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0644 = Mode0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Theory]
    [InlineData(Mode0600)]
    [InlineData(Mode0644)]
    public void Write_creates_then_replaces_the_file_with_the_requested_mode_and_leaves_no_temporary_file(UnixFileMode mode)
    {
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "data");

        AtomicFile.Write(path, "first"u8, mode);
        Assert.Equal("first", File.ReadAllText(path));
        Assert.Equal(mode, File.GetUnixFileMode(path));

        AtomicFile.WriteText(path, "second, longer content", mode);
        Assert.Equal("second, longer content", File.ReadAllText(path));
        Assert.Equal(mode, File.GetUnixFileMode(path));
        Assert.Equal(["data"], Directory.GetFiles(temp.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void Steps_run_in_order_and_the_target_shows_the_old_content_until_the_rename()
    {
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "node.json");
        File.WriteAllText(path, "old");
        var steps = new List<AtomicWriteStep>();

        AtomicFile.Write(path, "new"u8.ToArray(), Mode0644, (step, temporary) =>
        {
            steps.Add(step);
            Assert.Equal(temp.Root, Path.GetDirectoryName(temporary));
            Assert.True(AtomicFile.IsTemporaryFileName(Path.GetFileName(temporary)), temporary);
            switch (step)
            {
                case AtomicWriteStep.TemporaryCreated:
                    // Created private: a secret is never readable by others, whatever the final mode.
                    Assert.Equal(Mode0600, File.GetUnixFileMode(temporary));
                    Assert.Equal("old", File.ReadAllText(path));
                    break;
                case AtomicWriteStep.ModeSet:
                case AtomicWriteStep.FileSynced:
                    Assert.Equal(Mode0644, File.GetUnixFileMode(temporary));
                    Assert.Equal("new", File.ReadAllText(temporary));
                    Assert.Equal("old", File.ReadAllText(path));
                    break;
                case AtomicWriteStep.Renamed:
                case AtomicWriteStep.DirectorySynced:
                    Assert.False(File.Exists(temporary));
                    Assert.Equal("new", File.ReadAllText(path));
                    Assert.Equal(Mode0644, File.GetUnixFileMode(path));
                    break;
            }
        });

        Assert.Equal(
            [AtomicWriteStep.TemporaryCreated, AtomicWriteStep.ModeSet, AtomicWriteStep.FileSynced, AtomicWriteStep.Renamed, AtomicWriteStep.DirectorySynced],
            steps);
    }

    [Theory]
    [InlineData((int)AtomicWriteStep.TemporaryCreated)]
    [InlineData((int)AtomicWriteStep.ModeSet)]
    [InlineData((int)AtomicWriteStep.FileSynced)]
    public void A_failure_before_the_rename_keeps_the_old_content_and_removes_the_temporary_file(int step)
    {
        var failAt = (AtomicWriteStep)step;
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "identity.key");
        File.WriteAllText(path, "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, "new"u8, Mode0600, (step, _) =>
        {
            if (step == failAt)
            {
                throw new InvalidOperationException("simulated failure");
            }
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["identity.key"], Directory.GetFiles(temp.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Concurrent_readers_see_the_old_or_the_new_content_never_a_mix_or_nothing()
    {
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "big");
        byte[] a = Enumerable.Repeat((byte)'a', 256 * 1024).ToArray();
        byte[] b = Enumerable.Repeat((byte)'b', 200 * 1024).ToArray();
        AtomicFile.Write(path, a, Mode0600);

        using var stop = new CancellationTokenSource();
        int reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                byte[] seen = File.ReadAllBytes(path); // a missing file would throw here
                Assert.True(seen.AsSpan().SequenceEqual(a) || seen.AsSpan().SequenceEqual(b), $"torn read of {seen.Length} bytes");
                Interlocked.Increment(ref reads);
            }
        });

        // At least 100 replacements, and enough reads overlapping them (the reader may start late on a busy machine).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; !reader.IsCompleted && (i < 100 || (Volatile.Read(ref reads) < 50 && clock.Elapsed < TimeSpan.FromSeconds(20))); i++)
        {
            AtomicFile.Write(path, i % 2 == 0 ? b : a, Mode0600);
        }

        await stop.CancelAsync();
        await reader;
        Assert.True(Volatile.Read(ref reads) >= 50, $"only {reads} reads overlapped the writes");
    }

    [Fact]
    public void Writing_into_a_missing_directory_fails_with_a_message_naming_the_path()
    {
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "missing", "node.json");

        StateException e = Assert.Throws<StateException>(() => AtomicFile.Write(path, "x"u8, Mode0600));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("writing ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stale_temporary_files_are_recognised_and_removed_and_nothing_else()
    {
        using var temp = new TemporaryStateDirectory();
        string stale = Path.Combine(temp.Root, ".node.json" + AtomicFile.TemporaryMarker + "0123456789abcdef");
        File.WriteAllText(stale, "{\"format\": 1, \"netw"); // a write cut short
        string[] keep = ["node.json", "notes.meshagent-tmp-0123456789abcdef", ".x.meshagent-tmp-0123", "lock"];
        foreach (string name in keep)
        {
            File.WriteAllText(Path.Combine(temp.Root, name), "keep");
        }

        Assert.Equal(1, AtomicFile.RemoveStaleTemporaryFiles(temp.Root));
        Assert.False(File.Exists(stale));
        Assert.Equal(keep.Order(StringComparer.Ordinal), Directory.GetFiles(temp.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SyncDirectory_syncs_a_directory_and_reports_a_missing_one_with_its_errno()
    {
        using var temp = new TemporaryStateDirectory();
        FileSync.SyncDirectory(temp.Root);

        string missing = Path.Combine(temp.Root, "nope");
        NativeCallException e = Assert.Throws<NativeCallException>(() => FileSync.SyncDirectory(missing));
        Assert.Equal(2, e.Errno); // ENOENT
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteText_writes_utf8()
    {
        using var temp = new TemporaryStateDirectory();
        string path = Path.Combine(temp.Root, "name");
        AtomicFile.WriteText(path, "Zürich-Büro\n", Mode0600);
        Assert.Equal(Encoding.UTF8.GetBytes("Zürich-Büro\n"), File.ReadAllBytes(path));
    }
}

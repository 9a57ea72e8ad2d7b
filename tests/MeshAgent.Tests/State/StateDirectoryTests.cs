using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.State;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.StateFiles;

/// <summary>The state directory: creation, the single-owner lock, and the key files.</summary>
[SupportedOSPlatform("linux")]
public sealed class StateDirectoryTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = Mode0600 | UnixFileMode.UserExecute;

    [Fact]
    public void Open_creates_a_missing_directory_0700_and_writes_our_pid_into_the_lock()
    {
        using var temp = new TemporaryStateDirectory();
        string nested = Path.Combine(temp.StatePath, "agent-1");

        using (StateDirectory state = StateDirectory.Open(nested))
        {
            Assert.Equal(nested, state.Path);
            Assert.Equal(Mode0700, File.GetUnixFileMode(nested));
            string lockPath = Path.Combine(nested, StateDirectory.LockFileName);
            Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", ReadShared(lockPath));
            Assert.Empty(state.Warnings);
        }

        // Disposed: the lock is released and no longer names us.
        Assert.Equal(string.Empty, File.ReadAllText(Path.Combine(nested, StateDirectory.LockFileName)));
    }

    [Fact]
    public void A_second_open_fails_with_the_holders_pid_while_the_first_holds_it_and_succeeds_after_dispose()
    {
        using var temp = new TemporaryStateDirectory();
        StateDirectory first = StateDirectory.Open(temp.StatePath);

        StateException e = Assert.Throws<StateException>(() => StateDirectory.Open(temp.StatePath));
        Assert.Equal(
            $"another meshagent (pid {Environment.ProcessId}) is using state directory {temp.StatePath} — stop it first or pass --state-dir",
            e.Message);

        first.Dispose();
        using StateDirectory second = StateDirectory.Open(temp.StatePath);
        Assert.Equal(temp.StatePath, second.Path);
    }

    [Fact]
    public async Task The_lock_is_a_real_flock_shared_with_other_processes()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string lockPath = temp.File(StateDirectory.LockFileName);

        // Another process (flock(1)) holds the lock: we are refused and told its pid.
        // It writes its pid ($PPID of the shell is flock itself) the way meshagent does; --close keeps the
        // lock out of the child, so it dies with flock.
        using Process holder = StartProcess("flock", "--close", lockPath, "sh", "-c", "echo $PPID > \"$0\"; echo locked; exec sleep 60", lockPath);
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync());
            StateException e = Assert.Throws<StateException>(() => StateDirectory.Open(temp.StatePath));
            Assert.Contains($"(pid {holder.Id})", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
        }

        // The holder died without cleaning up: its lock went with it.
        using (StateDirectory.Open(temp.StatePath))
        {
            // And while we hold it, another process cannot take it.
            using Process contender = StartProcess("flock", "-n", lockPath, "true");
            await contender.WaitForExitAsync();
            Assert.Equal(1, contender.ExitCode);
        }
    }

    [Fact]
    public async Task Dispose_releases_the_lock_at_once_even_while_other_threads_fork_children()
    {
        // A child forked by another thread shares our lock's open file description until it execs; a
        // close alone would leave the lock held for that moment and fail an immediate reopen.
        using var temp = new TemporaryStateDirectory();
        using var stop = new CancellationTokenSource();
        int spawned = 0;
        Task[] spawners = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using Process child = StartProcess("true");
                await child.WaitForExitAsync();
                Interlocked.Increment(ref spawned);
            }
        })).ToArray();

        try
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5) || Volatile.Read(ref spawned) < 20)
            {
                StateDirectory.Open(temp.StatePath).Dispose();
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(spawners);
        }
    }

    [Fact]
    public void Open_on_a_file_or_below_a_file_says_it_is_not_a_directory()
    {
        using var temp = new TemporaryStateDirectory();
        string file = Path.Combine(temp.Root, "plain");
        File.WriteAllText(file, "x");

        StateException isFile = Assert.Throws<StateException>(() => StateDirectory.Open(file));
        Assert.Equal($"state directory {file} is a file, not a directory — move the file away or pass --state-dir a directory", isFile.Message);

        string below = Path.Combine(file, "state");
        StateException belowFile = Assert.Throws<StateException>(() => StateDirectory.Open(below));
        Assert.Contains($"cannot create state directory {below}", belowFile.Message, StringComparison.Ordinal);
        Assert.Contains("--state-dir", belowFile.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(13, "permission denied — run meshagent as root")]
    [InlineData(1, "permission denied — run meshagent as root")]
    [InlineData(30, "read-only file system — remount it read-write or pass --state-dir a writable directory")]
    [InlineData(20, "not a directory — pass --state-dir a directory path")]
    [InlineData(28, "the disk is full")]
    [InlineData(5, "locking /s/lock failed: ")]
    public void Lock_failures_are_explained_by_errno(int errno, string expected)
    {
        // Tests run as root, which no permission bit stops, so the mapping is checked directly.
        string message = StateDirectory.DescribeOpenFailure("/s", "/s/lock", errno);
        Assert.StartsWith("cannot use state directory /s: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_holder_that_has_not_written_its_pid_yet_is_reported_as_unknown()
    {
        Assert.Contains("(pid unknown)", StateDirectory.DescribeHeld("/s", ""), StringComparison.Ordinal);
        Assert.Contains("(pid unknown)", StateDirectory.DescribeHeld("/s", "garbage\n"), StringComparison.Ordinal);
        Assert.Contains("(pid 77)", StateDirectory.DescribeHeld("/s", "77\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_removes_temporary_files_of_an_interrupted_write_and_warns()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.WriteAllText(temp.File(StateDirectory.IdentityFileName), "unchanged");
        string stale = temp.File(".identity.key" + AtomicFile.TemporaryMarker + "00112233445566ff");
        File.WriteAllText(stale, "meshnodesecret1:trunc");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        Assert.False(File.Exists(stale));
        Assert.Equal("unchanged", File.ReadAllText(temp.File(StateDirectory.IdentityFileName)));
        Assert.Contains(state.Warnings, w => w.Contains("removed 1 temporary file", StringComparison.Ordinal));
    }

    [Fact]
    public void Identity_is_created_once_0600_and_the_same_after_a_restart()
    {
        using var temp = new TemporaryStateDirectory();
        string publicKey;
        string text;
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        using (NodeIdentity identity = state.LoadOrCreateIdentity())
        {
            publicKey = identity.PublicKey.ToString();
            text = identity.RevealSecretText();
            using NodeIdentity again = state.LoadOrCreateIdentity();
            Assert.Equal(publicKey, again.PublicKey.ToString());
        }

        string path = temp.File(StateDirectory.IdentityFileName);
        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        Assert.Equal(text + "\n", File.ReadAllText(path));

        using (StateDirectory restarted = StateDirectory.Open(temp.StatePath))
        using (NodeIdentity identity = restarted.LoadOrCreateIdentity())
        {
            Assert.Equal(publicKey, identity.PublicKey.ToString());
        }
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("\n", "it holds only white space")]
    [InlineData("meshnodesecret1:AAAAAAAAAAAAAAAAAAAA", "followed by 43 base64url characters; this one has 20")]
    [InlineData("meshrootsecret1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "starts with 'meshnodesecret1:'")]
    [InlineData("meshnodesecret1:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "not valid base64url")]
    public void A_damaged_identity_file_is_reported_and_never_replaced(string content, string reason)
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string path = temp.File(StateDirectory.IdentityFileName);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, Mode0600);

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.LoadOrCreateIdentity());
        Assert.StartsWith($"identity file {path} is damaged: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup, or move it away", e.Message, StringComparison.Ordinal);
        Assert.Contains("NEW identity", e.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void A_truncated_identity_file_is_damaged_not_regenerated()
    {
        using var temp = new TemporaryStateDirectory();
        string full;
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        using (state.LoadOrCreateIdentity())
        {
            full = File.ReadAllText(temp.File(StateDirectory.IdentityFileName));
        }

        string path = temp.File(StateDirectory.IdentityFileName);
        File.WriteAllText(path, full[..30]);
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        Assert.Throws<StateException>(() => reopened.LoadOrCreateIdentity());
        Assert.Equal(full[..30], File.ReadAllText(path));
    }

    [Fact]
    public void A_missing_identity_next_to_a_membership_is_an_error_not_a_new_identity()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.WriteAllText(temp.File(StateDirectory.NodeStateFileName), "{}");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.LoadOrCreateIdentity());
        Assert.StartsWith($"identity file {temp.File(StateDirectory.IdentityFileName)} is missing, but ", e.Message, StringComparison.Ordinal);
        Assert.Contains("restore identity.key from a backup", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File(StateDirectory.IdentityFileName)));
    }

    [Fact]
    public void A_key_file_open_to_others_is_tightened_to_0600_with_a_warning()
    {
        using var temp = new TemporaryStateDirectory();
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        using (state.LoadOrCreateIdentity())
        {
        }

        string path = temp.File(StateDirectory.IdentityFileName);
        File.SetUnixFileMode(path, Mode0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        using NodeIdentity identity = reopened.LoadOrCreateIdentity();
        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        string warning = Assert.Single(reopened.Warnings);
        Assert.Contains(path, warning, StringComparison.Ordinal);
        Assert.Contains("mode 0644", warning, StringComparison.Ordinal);
        Assert.Contains("treat the secret in it as exposed", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_directory_open_to_others_is_kept_but_warned_about()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.SetUnixFileMode(temp.StatePath, Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        Assert.Contains(state.Warnings, w => w.Contains("mode 0755", StringComparison.Ordinal) && w.Contains("chmod 700", StringComparison.Ordinal));
    }

    [Fact]
    public void Root_key_is_absent_until_saved_then_round_trips_0600()
    {
        using var temp = new TemporaryStateDirectory();
        using var key = NetworkRootKey.Generate();
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            Assert.Null(state.LoadRootKey());
            state.SaveRootKey(key);
        }

        string path = temp.File(StateDirectory.RootKeyFileName);
        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
        Assert.Equal(key.RevealSecretText() + "\n", File.ReadAllText(path));
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        using NetworkRootKey? loaded = reopened.LoadRootKey();
        Assert.NotNull(loaded);
        Assert.Equal(key.PublicKey.ToString(), loaded.PublicKey.ToString());
    }

    [Fact]
    public void A_damaged_root_key_file_is_reported_with_the_next_step()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string path = temp.File(StateDirectory.RootKeyFileName);
        File.WriteAllText(path, "meshrootsecret1:short\n");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.LoadRootKey());
        Assert.StartsWith($"root key file {path} is damaged: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_timestamp_floor_lives_in_the_directory_and_survives_a_restart()
    {
        using var temp = new TemporaryStateDirectory();
        byte[] floor = Enumerable.Range(1, 12).Select(i => (byte)i).ToArray();
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            ITai64NFloorStore store = state.OpenTimestampFloor();
            Assert.False(store.TryLoad(new byte[12]));
            store.Save(floor);
        }

        Assert.True(File.Exists(temp.File(StateDirectory.TimestampFloorFileName)));
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        var loaded = new byte[12];
        Assert.True(reopened.OpenTimestampFloor().TryLoad(loaded));
        Assert.Equal(floor, loaded);
    }

    [Fact]
    public void A_disposed_directory_refuses_use()
    {
        using var temp = new TemporaryStateDirectory();
        StateDirectory state = StateDirectory.Open(temp.StatePath);
        state.Dispose();
        state.Dispose();
        Assert.Throws<ObjectDisposedException>(() => state.LoadOrCreateIdentity());
        Assert.Throws<ObjectDisposedException>(() => state.LoadNodeState());
    }

    /// <summary>Reads a file another descriptor of ours holds an exclusive flock on (the BCL would take a shared flock and fail).</summary>
    private static string ReadShared(string path)
    {
        var start = new ProcessStartInfo("cat", [path]) { RedirectStandardOutput = true };
        using Process cat = Process.Start(start)!;
        string text = cat.StandardOutput.ReadToEnd();
        cat.WaitForExit();
        return text;
    }

    private static Process StartProcess(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MeshAgent.Core.Interop.Linux;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.State;

/// <summary>
/// Replaces a file so that after a crash or power cut at any instant it holds either its old or its new
/// content, complete, with its final mode — never a torn or empty file, never a moment where a secret is
/// readable by others. The steps (<see cref="AtomicWriteStep"/>):
/// <list type="number">
/// <item>create <c>.NAME.meshagent-tmp-RANDOM</c> in the same directory (O_CREAT|O_EXCL, mode 0600: a
/// rename only stays atomic within one file system, and O_EXCL never follows a planted file or link);</item>
/// <item>write the content, set the final mode, fsync — the mode before the fsync so the fsync makes it
/// durable too, and before the rename so the name never shows a file with the wrong mode;</item>
/// <item>rename(2) over the target: readers see the old file or the new one, nothing in between;</item>
/// <item>fsync the directory, so the rename itself survives a power cut.</item>
/// </list>
/// A crash before the rename leaves a temporary file behind; <see cref="RemoveStaleTemporaryFiles"/>
/// (run by <see cref="StateDirectory.Open"/> once it holds the directory lock) deletes them.
/// Not for concurrent writers of one path: callers serialise (the state directory has one owner).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Marks the temporary files this class creates; nothing else in a state directory has it.</summary>
    public const string TemporaryMarker = ".meshagent-tmp-";

    private const UnixFileMode CreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> atomically and durably, with <paramref name="mode"/>.</summary>
    /// <exception cref="StateException">a step failed; the message names the path, the cause and the next step. The old content is untouched.</exception>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode) => Write(path, content, mode, observe: null);

    /// <summary>
    /// <see cref="Write(string, ReadOnlySpan{byte}, UnixFileMode)"/> of <paramref name="text"/> in UTF-8. The
    /// encoded copy is wiped afterwards, as the text may be a secret key.
    /// </summary>
    public static void WriteText(string path, string text, UnixFileMode mode)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            Write(path, bytes, mode);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Whether <paramref name="fileName"/> (a name, not a path) is one of this class's temporary files.</summary>
    public static bool IsTemporaryFileName(string fileName) => TemporaryName().IsMatch(fileName);

    /// <summary>
    /// Deletes the temporary files an interrupted <see cref="Write(string, ReadOnlySpan{byte}, UnixFileMode)"/>
    /// left in <paramref name="directory"/> and returns how many. Only safe while no write to that
    /// directory can be in progress (the caller holds the state directory lock).
    /// </summary>
    public static int RemoveStaleTemporaryFiles(string directory)
    {
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (IsTemporaryFileName(System.IO.Path.GetFileName(file)))
            {
                File.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// The write, with a test seam: <paramref name="observe"/> is called after each step has completed
    /// (with the temporary path) and may throw to simulate a failure at that point.
    /// </summary>
    internal static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode, Action<AtomicWriteStep, string>? observe)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("meshagent keeps its state with Linux file semantics (modes, rename, fsync of directories)");
        }

        string fullPath = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(fullPath)!;
        string temporary = System.IO.Path.Combine(
            directory,
            "." + System.IO.Path.GetFileName(fullPath) + TemporaryMarker + RandomNumberGenerator.GetHexString(16, lowercase: true));

        bool renamed = false;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.Read, // O_EXCL already makes it ours; readers (tests, an operator) may look
                UnixCreateMode = CreateMode,
            };
            using (var stream = new FileStream(temporary, options))
            {
                observe?.Invoke(AtomicWriteStep.TemporaryCreated, temporary);
                stream.Write(content);
                stream.Flush(flushToDisk: false);
                File.SetUnixFileMode(stream.SafeFileHandle, mode);
                observe?.Invoke(AtomicWriteStep.ModeSet, temporary);
                stream.Flush(flushToDisk: true);
                observe?.Invoke(AtomicWriteStep.FileSynced, temporary);
            }

            // File.Move with overwrite is rename(2) on Linux when source and target share a file system.
            File.Move(temporary, fullPath, overwrite: true);
            renamed = true;
            observe?.Invoke(AtomicWriteStep.Renamed, temporary);
            FileSync.SyncDirectory(directory);
            observe?.Invoke(AtomicWriteStep.DirectorySynced, temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteQuietly(temporary, renamed);
            throw new StateException($"writing {fullPath} failed: {Describe(e)}{Hint(e, directory)}", e);
        }
        catch
        {
            DeleteQuietly(temporary, renamed);
            throw;
        }
    }

    /// <summary>The cause of a failed file operation, in a form fit for the operator: .NET messages carry the path already.</summary>
    internal static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        NativeCallException native => Errno.Describe(native.Errno),
        _ => e.Message,
    };

    private static string Hint(Exception e, string directory)
    {
        string text = e.Message;
        if (e is UnauthorizedAccessException || (e is NativeCallException { Errno: LinuxErrno.EACCES or LinuxErrno.EPERM }))
        {
            return $" — run meshagent as the owner of {directory} (usually root), or pass --state-dir a directory you own";
        }

        if (text.Contains("No space left", StringComparison.OrdinalIgnoreCase) || e is NativeCallException { Errno: LinuxErrno.ENOSPC })
        {
            return " — the disk is full: free space and retry";
        }

        if (text.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) || e is NativeCallException { Errno: LinuxErrno.EROFS })
        {
            return $" — {directory} is on a read-only file system: remount it read-write or pass --state-dir a writable directory";
        }

        return string.Empty;
    }

    private static void DeleteQuietly(string temporary, bool renamed)
    {
        if (renamed)
        {
            return;
        }

        try
        {
            File.Delete(temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next StateDirectory.Open removes it.
        }
    }

    [GeneratedRegex(@"^\..+\.meshagent-tmp-[0-9a-f]{16}$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();
}

/// <summary>The steps of <see cref="AtomicFile"/>'s write, in order, as reported to its test seam.</summary>
internal enum AtomicWriteStep
{
    TemporaryCreated,
    ModeSet,
    FileSynced,
    Renamed,
    DirectorySynced,
}

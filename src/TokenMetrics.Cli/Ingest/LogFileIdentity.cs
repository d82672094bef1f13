using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TokenMetrics.Cli.Ingest;

/// <summary>Who a log file is, independent of its name, so a rotated file (<c>access.log</c> renamed to <c>access.log.1</c>)
/// is recognised and not read again: device + inode on Linux (<c>fstat</c> on the open handle, so it names the bytes being
/// read even if the file is renamed meanwhile); elsewhere the creation time, which a rename keeps.</summary>
internal static class LogFileIdentity
{
    /// <summary>The identity of the open file.</summary>
    /// <param name="handle">The open file.</param>
    /// <param name="path">Its path (only for the non-Linux fallback).</param>
    /// <returns><c>DEV:INODE</c> on Linux, else <c>ctime:TICKS</c>.</returns>
    public static string Of(SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64 && TryStat(handle, out var device, out var inode))
        {
            return $"{device}:{inode}";
        }

        return "ctime:" + File.GetCreationTimeUtc(path).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>On x86-64 and arm64 Linux, <c>struct stat</c> starts with <c>st_dev</c> (8 bytes) then <c>st_ino</c> (8 bytes);
    /// the buffer is larger than either layout (144 and 128 bytes).</summary>
    private static bool TryStat(SafeFileHandle handle, out ulong device, out ulong inode)
    {
        device = inode = 0;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            var buffer = new ulong[64];
            int result;
            try
            {
                result = FStat(fd, buffer);
            }
            catch (EntryPointNotFoundException)
            {
                // glibc before 2.33 exports only the versioned __fxstat (version 1 on x86-64, 0 on arm64).
                result = FXStat(RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 0, fd, buffer);
            }

            if (result != 0)
            {
                return false;
            }

            device = buffer[0];
            inode = buffer[1];
            return inode != 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // DllImport rather than LibraryImport: the CLI is built without unsafe code, and a blittable array needs no marshalling.
    [DllImport("libc", EntryPoint = "fstat")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FStat(int fd, [Out] ulong[] buffer);

    [DllImport("libc", EntryPoint = "__fxstat")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FXStat(int version, int fd, [Out] ulong[] buffer);
}

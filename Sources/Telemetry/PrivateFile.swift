#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates the files the gateway writes flight data into (recordings, SQLite databases, the
/// spill file) so only its own user can read them: files 0600, directories 0700. Flight tracks
/// say where drones are and were, and key-authenticated traffic in a recording is still readable
/// traffic. The process's umask can only take bits away, never add group or other access back.
///
/// Existing files and directories keep their modes: an operator who widened one did so on purpose.
/// These calls return what `open(2)` and `mkdir(2)` return, with `errno` set, so each caller
/// reports failures in its own error type.
public enum PrivateFile {
    /// Mode of a file created here.
    public static let fileMode: mode_t = 0o600
    /// Mode of a directory created here.
    public static let directoryMode: mode_t = 0o700

    /// `open(path, flags | O_CREAT | O_CLOEXEC, 0600)`: the descriptor, or -1 with `errno` set.
    public static func open(_ path: String, flags: Int32) -> Int32 {
        openFile(path, flags | O_CREAT | O_CLOEXEC, fileMode)
    }

    /// Creates `path` empty with mode 0600 when it does not exist yet, so a library that creates
    /// files with its own mode (SQLite: 0644, and its -wal and -shm files take the database
    /// file's mode) finds it made. 0 when the file exists or was made, else `errno`.
    public static func createIfMissing(_ path: String) -> Int32 {
        let descriptor = openFile(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if descriptor >= 0 {
            close(descriptor)
            return 0
        }
        return errno == EEXIST ? 0 : errno
    }

    /// Creates the directory `path` and any missing parents with mode 0700. 0 when it exists or
    /// was made, else `errno` (ENOTDIR when a component is a file).
    public static func createDirectories(_ path: String) -> Int32 {
        guard !path.isEmpty else { return ENOENT }
        var prefix = path.hasPrefix("/") ? "/" : ""
        // Bounded by the number of components.
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if mkdir(prefix, directoryMode) != 0 && errno != EEXIST { return errno }
            prefix += "/"
        }
        var status = stat()
        guard stat(path, &status) == 0 else { return errno }
        return status.st_mode & S_IFMT == S_IFDIR ? 0 : ENOTDIR
    }

    /// The directory part of a file path ("." for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The C `open`, out of reach of `PrivateFile.open`'s name.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads key and secret files (Skygate and MAVLink key files, the webhook secret, the database
/// password) and refuses one that others can get at, as ssh refuses a private key:
/// "permissions 0644 for 'x' are too open". A secret that every user of the machine can read is
/// not a secret, and the gateway would be the one to notice.
///
/// The rule: no access at all for others; none for the group either, except read access to a
/// file root owns that the gateway (not root) reads through its group. That one exception is
/// PostgreSQL's rule for its TLS key, and what a Kubernetes secret volume with `fsGroup` looks
/// like (root-owned, mode 0440, the pod's group): the administrator shared it on purpose.
///
/// The file is opened first and the open descriptor checked (`fstat`), so the file checked is
/// the file read.
public enum SecretFile {
    /// A refusal or a failure; `description` names the option and the file, never its contents.
    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Why a secret file at `path` of this `mode`, owned by `owner`, must not be read by
    /// `processUser` (nil when it may). `mode` holds at least the permission bits.
    public static func permissionProblem(path: String, mode: UInt32, owner: UInt32, processUser: UInt32) -> String? {
        let permissions = mode & 0o7777
        let others = permissions & 0o007
        let group = permissions & 0o070
        let sharedByRoot = owner == 0 && processUser != 0 && group & ~0o050 == 0
        guard others != 0 || (group != 0 && !sharedByRoot) else { return nil }
        let who = others != 0 ? "other users" : "its group"
        return "permissions \(octal(permissions)) for '\(path)' are too open (\(who) can get at it); chmod 600 it"
    }

    /// The file's bytes (at most `bytesMax`; a larger file is refused) after the permission
    /// check. `option` names the file in messages ("--key-file").
    public static func read(path: String, option: String, bytesMax: Int = 1 << 20) throws(Problem) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let reason = errno == ENOENT ? "the file does not exist" : "cannot open it (\(String(cString: strerror(errno))))"
            throw Problem("\(option) '\(path)': \(reason)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw Problem("\(option) '\(path)': cannot stat it (\(String(cString: strerror(errno))))")
        }
        if status.st_mode & S_IFMT == S_IFDIR { throw Problem("\(option) '\(path)': a directory, not a file") }
        if let problem = permissionProblem(path: path, mode: UInt32(status.st_mode), owner: UInt32(status.st_uid), processUser: UInt32(geteuid())) {
            throw Problem("\(option): \(problem)")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        // Bounded: stops at the end of the file or one read past `bytesMax`.
        while bytes.count <= bytesMax {
            let count = buffer.withUnsafeMutableBytes { readDescriptor(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Problem("\(option) '\(path)': cannot read it (\(String(cString: strerror(errno))))")
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        guard bytes.count <= bytesMax else {
            throw Problem("\(option) '\(path)': larger than \(bytesMax) bytes (is this the right file?)")
        }
        return bytes
    }

    /// The file's text (UTF-8) after the permission check; see `read`.
    public static func readText(path: String, option: String, bytesMax: Int = 1 << 20) throws(Problem) -> String {
        let bytes = try read(path: path, option: option, bytesMax: bytesMax)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Problem("\(option) '\(path)': not UTF-8 text")
        }
        return text
    }

    /// Only the permission check, for a file another component reads later.
    public static func check(path: String, option: String) throws(Problem) {
        _ = try read(path: path, option: option, bytesMax: 1 << 20)
    }

    /// "0644".
    static func octal(_ value: UInt32) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// The C `read`, out of reach of `SecretFile.read`'s name.
private func readDescriptor(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

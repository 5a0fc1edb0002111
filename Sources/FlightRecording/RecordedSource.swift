#if canImport(Glibc)
import Glibc
#endif

/// The sender of a recorded datagram in a portable form: 4 address bytes then the port
/// (big-endian) for IPv4, 16 address bytes then the port for IPv6, nothing when unknown.
/// A recording is copied between machines, so it does not keep the host's `sockaddr` layout.
public enum RecordedSource {
    /// Longest form (IPv6).
    public static let bytesMax = 18

    /// Writes the portable form of the `sockaddr` in `address` (as `recvmmsg` filled it) into
    /// `output` (at least `bytesMax` bytes) and returns its length: 0 for other families.
    public static func compact(sockaddr address: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= bytesMax)
        guard address.count >= 2 else { return 0 }
        let family = Int32(address.loadUnaligned(fromByteOffset: 0, as: sa_family_t.self))
        if family == AF_INET && address.count >= 8 {
            // sockaddr_in: family (2), port (2, network order), address (4).
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: address[4..<8]))
            output[4] = address[2]
            output[5] = address[3]
            return 6
        }
        if family == AF_INET6 && address.count >= 24 {
            // sockaddr_in6: family (2), port (2), flow info (4), address (16).
            UnsafeMutableRawBufferPointer(rebasing: output[0..<16]).copyMemory(from: UnsafeRawBufferPointer(rebasing: address[8..<24]))
            output[16] = address[2]
            output[17] = address[3]
            return 18
        }
        return 0
    }

    /// `HOST:PORT` text for a portable source, or nil when empty or malformed.
    public static func text(_ source: UnsafeRawBufferPointer) -> String? {
        switch source.count {
        case 6:
            let port = UInt16(source[4]) << 8 | UInt16(source[5])
            return "\(source[0]).\(source[1]).\(source[2]).\(source[3]):\(port)"
        case 18:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<16])) }
            var host = [CChar](repeating: 0, count: 64)
            _ = inet_ntop(AF_INET6, &address, &host, socklen_t(host.count))
            let port = UInt16(source[16]) << 8 | UInt16(source[17])
            let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return "[\(hostText)]:\(port)"
        default:
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UDP address parsed from `HOST:PORT`: an IPv4 address (`127.0.0.1:14550`), a bracketed
/// IPv6 address (`[::1]:14550`), or a host name resolved once, at parse time (`localhost:14550`).
public struct SocketAddress: Sendable, CustomStringConvertible {
    /// The address in the form the socket calls take.
    public let storage: sockaddr_storage
    public let length: socklen_t
    /// The text it was parsed from.
    public let description: String

    public var family: Int32 { Int32(storage.ss_family) }

    /// The port, from the address itself.
    public var port: UInt16 {
        var copy = storage
        return withUnsafeBytes(of: &copy) { bytes in
            // sin_port and sin6_port sit at the same offset, in network byte order.
            UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        }
    }

    /// An address the kernel gave back (getsockname, recvmmsg).
    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
        var host = [CChar](repeating: 0, count: 64)
        var copy = storage
        let port = UInt16(bigEndian: withUnsafeBytes(of: &copy) { $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self) })
        withUnsafeBytes(of: &copy) { bytes in
            if Int32(storage.ss_family) == AF_INET6 {
                _ = inet_ntop(AF_INET6, bytes.baseAddress! + 8, &host, socklen_t(host.count))
            } else {
                _ = inet_ntop(AF_INET, bytes.baseAddress! + 4, &host, socklen_t(host.count))
            }
        }
        let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        description = Int32(storage.ss_family) == AF_INET6 ? "[\(hostText)]:\(port)" : "\(hostText):\(port)"
    }

    /// Parses `text`; the error says what is wrong in words an option message can quote.
    /// Port 0 ("any free port") makes sense for an address to bind, never for a destination, so
    /// it is accepted only with `allowingPortZero`.
    public init(parsing text: String, allowingPortZero: Bool = false) throws(AddressError) {
        description = text
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw AddressError("'\(text)' is not HOST:PORT (an IPv6 address needs the form [::1]:14550)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                throw AddressError("'\(text)' is not HOST:PORT (for example 127.0.0.1:14550)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText), port > 0 || allowingPortZero else {
            throw AddressError(
                allowingPortZero
                    ? "'\(text)' has no valid port (0...65535; 0 picks a free one)" : "'\(text)' has no valid port (1...65535)")
        }
        guard !host.isEmpty else { throw AddressError("'\(text)' has no host") }

        var storage = sockaddr_storage()
        var length: socklen_t = 0
        let hostString = String(host)
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, hostString, &ipv4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = ipv4
            withUnsafeBytes(of: &address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, hostString, &ipv6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = ipv6
            withUnsafeBytes(of: &address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Self.datagramSocketType
            var results: UnsafeMutablePointer<addrinfo>? = nil
            let status = getaddrinfo(hostString, String(port), &hints, &results)
            guard status == 0, let first = results, let address = first.pointee.ai_addr else {
                let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
                throw AddressError("cannot resolve host '\(hostString)': \(reason)")
            }
            length = first.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &storage) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
            }
            freeaddrinfo(results)
        }
        self.storage = storage
        self.length = length
    }

    /// `SOCK_DGRAM` as the socket calls take it (Glibc imports it as an enum).
    static var datagramSocketType: Int32 {
        #if canImport(Glibc)
        Int32(SOCK_DGRAM.rawValue)
        #else
        SOCK_DGRAM
        #endif
    }

    /// Calls `body` with the address as the `sockaddr` pointer socket calls take.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
        var copy = storage
        return try withUnsafePointer(to: &copy) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }
}

/// A HOST:PORT that cannot be used, in words an option's error message can quote.
public struct AddressError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

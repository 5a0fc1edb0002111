import UDPIngest

/// Destinations are parsed and held by `UDPIngest.SocketAddress`, the one socket-address type of
/// the project; the simulator re-exports the name so its users need not import UDPIngest.
public typealias SocketAddress = UDPIngest.SocketAddress

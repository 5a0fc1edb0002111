// libFuzzer target for the zone file reader (`ZoneFile.parse`) and the grid built from what it
// accepts (`ZoneSet`). Built by Scripts/fuzz-inputs.sh zones: Telemetry as its own module, the
// Alerts zone sources and this file as another (docs/testing.md). Every input is one file.
//
// Oracles, beyond "no crash, no sanitizer report, no leak":
// - a refusal is a `ZoneFile.Problem` naming the file ("--zones <name>: ...");
// - an accepted file holds at most `zonesMax` zones, unique names, at most `verticesMax`
//   vertices, every polygon under 180° of longitude, every position on the globe, every circle's
//   radius in (0, radiusMaxMetres];
// - the grid built from it lists every zone whose box holds a position, for positions taken
//   from the zones' corners and from the input's own bytes (the grid is total and misses none).

import Foundation
import Telemetry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZoneFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Data(bytes: data, count: size)
    let zones: [Zone]
    do {
        zones = try ZoneFile.parse(input, name: "fuzz.geojson")
    } catch {
        precondition(error.description.hasPrefix("--zones fuzz.geojson: "), "a refusal that does not name the file: \(error)")
        return 0
    }
    precondition(zones.count <= Limits.Zones.zonesMax)
    precondition(Set(zones.map(\.name)).count == zones.count, "two zones with one name")
    precondition(zones.reduce(0) { $0 + $1.vertexCount } <= Limits.Zones.verticesMax)
    for zone in zones {
        switch zone.shape {
        case .circle(let center, let radius):
            precondition((-180...180).contains(center.longitude) && (-90...90).contains(center.latitude))
            precondition(radius > 0 && radius <= Limits.Zones.radiusMaxMetres)
        case .polygon(let rings):
            precondition(!rings.isEmpty && rings.allSatisfy { $0.count >= 4 && $0.first == $0.last })
            let positions = rings.joined()
            precondition(positions.allSatisfy { (-180...180).contains($0.longitude) && (-90...90).contains($0.latitude) })
            let longitudes = positions.map(\.longitude)
            precondition(longitudes.max()! - longitudes.min()! <= 180)
        }
    }

    let set = ZoneSet(zones: zones, hysteresisMetres: 5)
    var probes: [(Int32, Int32)] = [(0, 0), (.max, .max), (.min, .min), (900_000_000, 1_800_000_000), (-900_000_000, -1_800_000_000)]
    for zone in 0..<set.count {
        probes.append((set.minLatitudeE7[zone], set.minLongitudeE7[zone]))
        probes.append((set.maxLatitudeE7[zone], set.maxLongitudeE7[zone]))
        probes.append((set.minLatitudeE7[zone], set.maxLongitudeE7[zone]))
    }
    // Positions from the input's bytes: anything an attacker could put in a frame.
    var offset = 0
    while offset + 8 <= size && probes.count < 64 {
        let latitude = Int32(bitPattern: UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24)
        let longitude = Int32(bitPattern: UInt32(data[offset + 4]) | UInt32(data[offset + 5]) << 8 | UInt32(data[offset + 6]) << 16 | UInt32(data[offset + 7]) << 24)
        probes.append((latitude, longitude))
        offset += 8
    }
    for (latitude, longitude) in probes {
        let candidates = set.candidateZones(latitudeE7: latitude, longitudeE7: longitude)
        precondition(candidates.allSatisfy { $0 >= 0 && $0 < set.count })
        for zone in 0..<set.count
        where latitude >= set.minLatitudeE7[zone] && latitude <= set.maxLatitudeE7[zone]
            && longitude >= set.minLongitudeE7[zone] && longitude <= set.maxLongitudeE7[zone]
        {
            precondition(candidates.contains(zone), "zone \(zone) holds (\(latitude), \(longitude)) in its box but the grid misses it")
            _ = set.contains(zone, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: 0)
            _ = set.isBeyondMargin(zone, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: 0)
        }
    }
    return 0
}

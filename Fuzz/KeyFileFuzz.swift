// libFuzzer target for key files: the one reader (`KeyFile`) under both sets of rules, Skygate
// drone keys (`DroneKeys`) and MAVLink signing keys (`MAVLinkKeys`). Built by
// Scripts/fuzz-inputs.sh keys: WireAuthentication's key-file sources as their own module, the
// MAVLink key sources and this file as another (docs/testing.md). Every input is one file.
//
// Oracles, beyond "no crash, no sanitizer report":
// - accepted drone keys are 16 to 64 bytes, MAVLink keys exactly 32 bytes for systems 1...255;
// - every key accepted is spelled on some line of the input (the hex of its bytes);
// - a refusal names a line of the input (1 ... number of lines);
// - a refusal never repeats a run of hex digits long enough to be a key (11 or more): errors go
//   to logs, keys must not.

import WireAuthentication

func lineCount(_ text: String) -> Int { text.utf8.count { $0 == 10 } + 1 }

func checkRefusal(line: Int, message: String, text: String) {
    precondition(line >= 1 && line <= lineCount(text), "line \(line) of \(lineCount(text))")
    for field in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "#" }) where field.count >= 11 && field.allSatisfy(\.isHexDigit) {
        precondition(!message.contains(field), "the message repeats a key-sized field: \(message)")
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeyFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lowered = text.lowercased()
    do {
        let keys = try DroneKeys(parsing: text)
        for (_, key) in keys.keys {
            precondition(key.count >= DroneKeys.minKeyLength && key.count <= DroneKeys.maxKeyLength)
            precondition(lowered.contains(hex(key)), "a key not spelled in the file")
        }
    } catch {
        checkRefusal(line: error.line, message: error.message, text: text)
    }
    do {
        let keys = try MAVLinkKeys(parsing: text)
        for (system, key) in keys.keys {
            precondition(system != 0 && key.count == MAVLinkKeys.keyLength)
            precondition(lowered.contains(hex(key)), "a key not spelled in the file")
        }
    } catch {
        checkRefusal(line: error.line, message: error.message, text: text)
    }
    return 0
}

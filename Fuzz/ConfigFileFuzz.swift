// libFuzzer target for `serve --config FILE` (`ConfigFile.parse`, Sources/skygate/ConfigFile.swift).
// Built by Scripts/fuzz-inputs.sh config with that one source file (docs/testing.md). Every input
// is one file.
//
// Oracles, beyond "no crash, no sanitizer report":
// - every name returned is an allowed option;
// - values hold no newline or other control character but tab, and no '#' (comments are cut);
// - a refusal names the file and a line of the input (1 ... number of lines).

import Foundation

let allowed: Set<String> = ["udp", "http", "db", "key-file", "zones", "record", "access-token", "retain", "webhook"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let values = try ConfigFile.parse(text, path: "fuzz.conf", allowed: allowed)
        for (name, value) in values {
            precondition(allowed.contains(name))
            precondition(!value.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\t" } && !value.contains("#"),
                         "value \(value.debugDescription)")
        }
    } catch {
        let message = error.description
        precondition(message.hasPrefix("--config fuzz.conf line "), message)
        let number = Int(message.dropFirst("--config fuzz.conf line ".count).prefix { $0.isNumber }) ?? 0
        precondition(number >= 1 && number <= text.utf8.count { $0 == 10 } + 1, message)
    }
    return 0
}

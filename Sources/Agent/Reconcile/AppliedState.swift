import Foundation
import Messaging

/// What the agent has applied, kept in its state directory so that a restarted agent
/// adopts its VMs instead of rebooting them: the last desired state accepted, the
/// generation fully applied, what each VM runs, and the secrets of the switch links the
/// agent made itself. Written atomically after every change.
struct AppliedState: Codable, Equatable {
    struct VM: Codable, Equatable {
        var restartKey: String
        var configuration: String
        /// The desired-state generation whose configuration it runs.
        var generation: UInt64
    }

    var observedGeneration: UInt64 = 0
    var vms: [String: VM] = [:]
    var secrets: [String: String] = [:]

    static func load(from directory: String) -> (AppliedState, Clickos_V1_HostDesiredState?) {
        var state = AppliedState()
        if let data = FileManager.default.contents(atPath: directory + "/applied.json"),
            let decoded = try? JSONDecoder().decode(AppliedState.self, from: data)
        {
            state = decoded
        }
        var desired: Clickos_V1_HostDesiredState?
        if let data = FileManager.default.contents(atPath: directory + "/desired.pb") {
            desired = try? Clickos_V1_HostDesiredState(serializedBytes: [UInt8](data))
        }
        return (state, desired)
    }

    /// Writes both files (each through a temporary file and a rename).
    func save(to directory: String, desired: Clickos_V1_HostDesiredState?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try Self.replace(directory + "/applied.json", with: encoder.encode(self))
        if let desired {
            let bytes: [UInt8] = try desired.serializedBytes()
            try Self.replace(directory + "/desired.pb", with: Data(bytes))
        }
    }

    private static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}

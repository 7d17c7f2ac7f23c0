import Foundation
import GRDB
import Messaging

/// A host as the planner keeps it: what it registered, its health, when it last beat.
public struct StoredHost: Sendable, Equatable {
    public var registration: Clickos_V1_Register
    public var health: Clickos_V1_HostSummary.Health
    public var lastHeartbeatUnixMs: UInt64
    public init(registration: Clickos_V1_Register, health: Clickos_V1_HostSummary.Health, lastHeartbeatUnixMs: UInt64) {
        self.registration = registration
        self.health = health
        self.lastHeartbeatUnixMs = lastHeartbeatUnixMs
    }
}

/// What the planner must not forget across a restart: the chains users applied, the
/// hosts that registered, and each host's desired state with its generation. Behind a
/// protocol so that a replicated database can take SQLite's place; every call is one
/// transaction: it happens whole or not at all.
public protocol PlannerStore: Sendable {
    func putChain(_ chain: Clickos_V1_ChainSpec) throws
    func deleteChain(_ name: String) throws -> Bool
    func chains() throws -> [Clickos_V1_ChainSpec]
    func putHost(_ host: StoredHost) throws
    func hosts() throws -> [StoredHost]
    /// Stores desired states for several hosts at once (one plan's worth).
    func putDesired(_ states: [Clickos_V1_HostDesiredState]) throws
    func desired() throws -> [Clickos_V1_HostDesiredState]
}

/// The store in SQLite through GRDB: a WAL database file, schema by migrations, protobuf
/// messages as blobs beside the columns the planner queries.
public final class SQLiteStore: PlannerStore {
    let queue: DatabaseQueue

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        // WAL with synchronous=NORMAL: a commit survives the planner's crash (kill -9),
        // and waits for no fsync (the last commits may be lost to a power cut: agents keep
        // running what they have, and the planner's next plan reaches them again).
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(queue)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: chains, hosts, desired states") { db in
            try db.create(table: "chain") { t in
                t.primaryKey("name", .text)
                t.column("spec", .blob).notNull()
            }
            try db.create(table: "host") { t in
                t.primaryKey("name", .text)
                t.column("registration", .blob).notNull()
                t.column("health", .integer).notNull()
                t.column("last_heartbeat_ms", .integer).notNull()
            }
            try db.create(table: "desired") { t in
                t.primaryKey("host", .text)
                t.column("generation", .integer).notNull()
                t.column("state", .blob).notNull()
            }
        }
        return m
    }

    public func putChain(_ chain: Clickos_V1_ChainSpec) throws {
        let blob: [UInt8] = try chain.serializedBytes()
        try queue.write { db in
            try db.execute(sql: "INSERT INTO chain (name, spec) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec",
                           arguments: [chain.name, Data(blob)])
        }
    }

    public func deleteChain(_ name: String) throws -> Bool {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM chain WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func chains() throws -> [Clickos_V1_ChainSpec] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT spec FROM chain ORDER BY name").map { row in
                let data: Data = row["spec"]
                return try Clickos_V1_ChainSpec(serializedBytes: [UInt8](data))
            }
        }
    }

    public func putHost(_ host: StoredHost) throws {
        let blob: [UInt8] = try host.registration.serializedBytes()
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO host (name, registration, health, last_heartbeat_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET registration = excluded.registration, health = excluded.health,
                last_heartbeat_ms = excluded.last_heartbeat_ms
                """, arguments: [host.registration.hostName, Data(blob), host.health.rawValue, Int64(clamping: host.lastHeartbeatUnixMs)])
        }
    }

    public func hosts() throws -> [StoredHost] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT registration, health, last_heartbeat_ms FROM host ORDER BY name").map { row in
                let data: Data = row["registration"]
                let health: Int = row["health"]
                let beat: Int64 = row["last_heartbeat_ms"]
                return StoredHost(registration: try Clickos_V1_Register(serializedBytes: [UInt8](data)),
                                  health: Clickos_V1_HostSummary.Health(rawValue: health) ?? .unknown, lastHeartbeatUnixMs: UInt64(max(0, beat)))
            }
        }
    }

    public func putDesired(_ states: [Clickos_V1_HostDesiredState]) throws {
        let rows: [(String, Int64, Data)] = try states.map { s in
            let blob: [UInt8] = try s.serializedBytes()
            return (s.hostName, Int64(clamping: s.generation), Data(blob))
        }
        try queue.write { db in
            for (host, generation, blob) in rows {
                // Generations only move forward: an older state never replaces a newer one.
                let current = try Int64.fetchOne(db, sql: "SELECT generation FROM desired WHERE host = ?", arguments: [host]) ?? 0
                guard generation > current else {
                    throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: "desired state for \(host): generation \(generation) is not newer than \(current)")
                }
                try db.execute(sql: "INSERT INTO desired (host, generation, state) VALUES (?, ?, ?) ON CONFLICT(host) DO UPDATE SET generation = excluded.generation, state = excluded.state",
                               arguments: [host, generation, blob])
            }
        }
    }

    public func desired() throws -> [Clickos_V1_HostDesiredState] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT state FROM desired ORDER BY host").map { row in
                let data: Data = row["state"]
                return try Clickos_V1_HostDesiredState(serializedBytes: [UInt8](data))
            }
        }
    }
}

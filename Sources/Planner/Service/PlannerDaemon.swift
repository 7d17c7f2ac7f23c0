import CShims
import Foundation
import Logging
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// The planner as a process (`clickos planner`): its store, its ROUTER socket (CURVE with
/// `DIR/planner.key`, admitting the public keys in `DIR/authorized/`; without keys, local
/// endpoints only) and its clock, until SIGINT or SIGTERM.
public final class PlannerDaemon: Sendable {
    /// How the daemon is set up.
    public struct Configuration: Sendable {
        public var listen: String
        public var database: String
        /// A directory with `planner.key` and `authorized/*.pub`.
        public var keys: String?
        public var options = PlannerService.Options()
        public init(listen: String, database: String, keys: String? = nil) {
            self.listen = listen
            self.database = database
            self.keys = keys
        }
    }

    public let service: PlannerService
    public let server: MessageServer
    let log: Logger
    let stopDescriptor = clickos_eventfd()

    public init(_ c: Configuration, log: Logger = Logger(label: "clickos.planner")) throws {
        self.log = log
        let directory = (c.database as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: c.database)
        } catch {
            throw MessagingError("--db \(c.database): \(error)")
        }
        service = try PlannerService(store: store, options: c.options, log: log)
        var security: MessageServer.Security?
        if let dir = c.keys {
            do {
                let keys = try CurveKeyFiles.readPair(dir + "/planner.key")
                let authorized = try CurveKeyFiles.authorizedKeys(in: dir + "/authorized")
                security = MessageServer.Security(keys: keys, authorized: authorized)
                log.info("CURVE on", metadata: ["authorized_keys": "\(authorized.count)"])
            } catch {
                throw MessagingError("--keys \(dir): \(error)")
            }
        }
        let service = self.service
        let logger = log
        server = try MessageServer(name: "planner", endpoint: c.listen, security: security, log: { line in logger.notice("\(line)") },
                                   peerHandler: { envelope, peer in service.handle(envelope, peer: peer) })
        let server = self.server
        service.setPusher { desired, peer in
            server.send(EnvelopeCodec.make(sender: PlannerService.sender, requestID: UInt64(desired.generation) | 1 << 63, .desiredState(desired)), to: peer)
        }
        log.info("planner listening", metadata: ["endpoint": .string(server.endpoint), "db": .string(c.database)])
    }

    /// Asks `run` to return (from any thread).
    public func stop() {
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, 8)
    }

    /// Ticks the service every 100 ms until `stop`, SIGINT or SIGTERM.
    public func run() {
        clickos_catch_interrupts()
        let interrupted = clickos_interrupt_flag()
        while (interrupted?.pointee ?? 0) == 0 {
            var fd = pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 100)
            if fd.revents != 0 { break }
            service.tick()
        }
        log.info("planner stopping")
        server.stop()
    }

    deinit { close(stopDescriptor) }
}

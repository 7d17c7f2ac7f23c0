import CSeccomp
import CShims
import ClickElements
import ClickLanguage
import ClickRuntime
import PacketIO
import VMInterface

#if canImport(Glibc)
import Glibc
#endif

/// The `click`-compatible driver: reads a configuration, reports its errors in Click's
/// format, builds and initializes the router, and runs it until a stop event; then prints
/// the handlers named with `-h` and exits with `-x`'s value when given.
enum Driver {
    static let version = "0.1.0"

    static func run(_ arguments: [String]) -> Int32 {
        // A file size limit makes a write fail (EFBIG, reported by the writer) instead of
        // killing the router.
        signal(SIGXFSZ, SIG_IGN)
        let options: DriverOptions
        do {
            options = try DriverOptions.parse(arguments)
        } catch {
            printError("clickos-vm: \(error.description)\nUsage: clickos-vm [OPTION]... [ROUTERFILE]\nTry 'clickos-vm --help' for more information.")
            return 1
        }
        if options.showHelp {
            print(DriverOptions.usage)
            return 0
        }
        if options.showVersion {
            print("clickos-vm (ClickOS in Swift) \(version)")
            return 0
        }
        if let name = options.documentClass {
            guard let page = ElementDocumentation.of(name)?.page else {
                printError("clickos-vm: no element class named '\(name)'")
                return 1
            }
            print(page, terminator: "")
            return 0
        }

        if options.xenstore {
            #if Xen
            return XenstoreGuest.run(options)
            #else
            printError("clickos-vm: --xenstore: this clickos-vm was built without Xen support (swift build --traits Xen)")
            return 1
            #endif
        }
        if options.interfaces != nil && !options.ports.isEmpty {
            printError("clickos-vm: --interfaces and --port N=memif:... cannot be mixed: VM ports are one or the other")
            return 1
        }

        let text: String
        let landmarkFile: String
        if let expression = options.expression {
            text = expression
            landmarkFile = "config"
        } else if let file = options.file, file != "-" {
            guard let contents = FileLibraryResolver.readFile(file) else {
                printError("clickos-vm: \(file): \(String(cString: strerror(errno)))")
                return 1
            }
            text = contents
            landmarkFile = file
        } else {
            text = readStandardInput()
            landmarkFile = "<stdin>"
        }

        var configuration = text
        for (i, socket) in options.controlSockets.enumerated() {
            configuration += "\nclickos_control\(i) :: ControlSocket(\(socket.type), \(ConfigText.quote(socket.address)));\n"
        }
        var resolver = FileLibraryResolver.fromEnvironment()
        if !options.clickPath.isEmpty { resolver.searchPath = options.clickPath + resolver.searchPath }
        let registry = StandardElements.registry
        let log = DiagnosticLog()
        func report() {
            let shown = options.noWarnings ? log.diagnostics.filter { $0.severity != .warning } : log.diagnostics
            if !shown.isEmpty { printError(shown.map(\.description).joined(separator: "\n")) }
        }
        let flat = ClickConfiguration.flatten(
            configuration, file: landmarkFile, definitions: options.definitions,
            knownClasses: options.flattenOnly ? nil : registry.classNames, libraries: resolver, log: log)
        if options.flattenOnly || log.hasErrors {
            report()
            if log.hasErrors { return 1 }
            return writeOutput(flat, options) ? 0 : 1
        }

        // VM resources come after the configuration parsed, and go again if it fails to
        // initialize: a bad configuration leaves no socket and no stats page behind.
        let vm: VMResources
        do {
            vm = try VMResources.open(options)
        } catch {
            report()
            printError("clickos-vm: \(error.message)")
            return 1
        }
        let built = Router.build(flat, configurationText: configuration, registry: registry, simulatedTime: options.simulatedTime,
                                 poolCapacity: options.poolCapacity ?? 16_384,
                                 services: (vm.ports.map { [$0] } ?? []) + (options.interfaces.map { [VMPortInterfaces($0)] } ?? []), log: log,
                                 chatter: { printError($0) })
        report()
        guard var router = built else {
            vm.discard()
            return 1
        }
        router.libraries = resolver
        router.definitions = options.definitions
        defer {
            router.cleanup()
            vm.close()
        }
        // Click writes each element's configuration as the element normalises it.
        var normalized = flat
        for (i, e) in router.elements.enumerated() where i < normalized.elements.count {
            if let c = e.normalizedConfiguration { normalized.elements[i].configuration = c }
        }
        if !writeOutput(normalized, options) { return 1 }
        // Click's -q still prints the -h handlers and takes -x's status.
        if options.quit || router.elements.isEmpty { return finish(router, options) }
        do {
            try vm.startControl(router)
        } catch {
            printError("clickos-vm: \(error.message)")
            return 1
        }
        // SIGINT or SIGTERM stops the router gracefully, as in Click: cleanup runs and the
        // -h handlers are still printed; a second signal kills the process. Caught before
        // announcing readiness: a VM is PID 1 of its namespace, where a signal without a
        // handler is ignored, so a stop right after boot would otherwise be lost.
        clickos_catch_interrupts()
        // The allow-list goes on last: everything a VM opens at start is open, and from
        // here on the VM only runs packets, timers, control requests and hot swaps.
        if options.seccomp {
            var error = [CChar](repeating: 0, count: 256)
            let failed = options.seccompProgram.map { clickos_seccomp_load($0, &error, error.count) } ?? clickos_seccomp_install(&error, error.count)
            if failed != 0 {
                printError("clickos-vm: --seccomp: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
                return 1
            }
        }
        vm.announceReady()

        let clock = RouterClock(simulated: false)
        let started = clock.now()
        let interrupt = UnsafeRawPointer(clickos_interrupt_flag()).assumingMemoryBound(to: Int32.self)
        // A `hotconfig` write stops the running router and leaves its replacement.
        while true {
            router.scheduler.interruptFlag = interrupt
            vm.control?.router = router
            vm.control?.attach(to: router.scheduler)
            router.run()
            vm.control?.detach()
            guard let next = router.replacement else { break }
            router.cleanup()
            router = next
            vm.stats?[.reconfigurations] += 1
        }
        if options.printTime {
            let elapsed = Double(clock.now() - started) / 1e9
            printError("\(elapsed)s")
        }

        return finish(router, options)
    }

    /// The -h handlers printed and the exit status (-x's value when given).
    static func finish(_ router: Router, _ options: DriverOptions) -> Int32 {
        var status: Int32 = 0
        if !options.handlers.isEmpty {
            status = callReadHandlers(router, options.handlers)
        }
        if let exitHandler = options.exitHandler {
            do {
                let value = try router.read(exitHandler).trimmingCharacters()
                if let n = Int32(value) {
                    status = n
                } else if let b = BoolValue.parse(value) {
                    status = b ? 0 : 1
                } else {
                    printError("clickos-vm: '\(exitHandler)' value not an integer or boolean")
                    status = 1
                }
            } catch {
                printError("clickos-vm: \(error.message)")
                status = 1
            }
        }
        return status
    }

    /// Prints the `-h` handlers: one alone gets its value and a newline; several (or a
    /// pattern) get `name.handler:` headers and a blank line after each.
    static func callReadHandlers(_ router: Router, _ names: [String]) -> Int32 {
        var status: Int32 = 0
        var calls: [String] = []
        for name in names {
            if name.contains("*") || name.contains("?") {
                let (pattern, handler) = splitHandler(name)
                for e in router.elements where globMatch(pattern, e.name) || e.className == pattern {
                    if router.handlers[e.index][handler] != nil { calls.append("\(e.name).\(handler)") }
                }
            } else if let dot = name.firstIndex(of: "."), router.element(named: String(name[..<dot])) == nil {
                // A class name: every element of that class.
                let (cls, handler) = splitHandler(name)
                let matching = router.elements.filter { $0.className == cls }
                if matching.isEmpty { calls.append(name) } else { calls += matching.map { "\($0.name).\(handler)" } }
            } else {
                calls.append(name)
            }
        }
        let headers = calls.count > 1 || names.contains { $0.contains("*") || $0.contains("?") }
        for call in calls {
            do {
                let value = try router.read(call)
                if headers {
                    print("\(call):\n\(value)\(value.hasSuffix("\n") || value.isEmpty ? "" : "\n")")
                } else {
                    print(value, terminator: value.hasSuffix("\n") ? "" : "\n")
                }
            } catch {
                printError("clickos-vm: \(error.message)")
                status = 1
            }
        }
        return status
    }

    static func splitHandler(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: ".") else { return ("", name) }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    static func globMatch(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }

    static func writeOutput(_ flat: FlatConfiguration, _ options: DriverOptions) -> Bool {
        guard let output = options.output else { return true }
        let rendered = flat.unparse()
        if output == "-" {
            print(rendered, terminator: "")
            return true
        }
        if !writeFile(output, rendered) {
            printError("clickos-vm: \(output): \(String(cString: strerror(errno)))")
            return false
        }
        return true
    }

    static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            offset += n
        }
    }

    static func readStandardInput() -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(0, &buffer, buffer.count)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func writeFile(_ path: String, _ text: String) -> Bool {
        guard let handle = fopen(path, "wb") else { return false }
        defer { fclose(handle) }
        let bytes = Array(text.utf8)
        return fwrite(bytes, 1, bytes.count, handle) == bytes.count
    }
}

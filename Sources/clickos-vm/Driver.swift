import ClickLanguage

#if canImport(Glibc)
import Glibc
#endif

/// The `click`-compatible driver: reads a configuration, reports its errors in Click's
/// format, and (with `-q -o FILE`) writes the flattened configuration. Running a
/// configuration arrives with the runtime.
enum Driver {
    static let version = "0.1.0"

    static func run(_ arguments: [String]) -> Int32 {
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

        var resolver = FileLibraryResolver.fromEnvironment()
        if !options.clickPath.isEmpty { resolver.searchPath = options.clickPath + resolver.searchPath }
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(text, file: landmarkFile, definitions: options.definitions, libraries: resolver, log: log)
        let shown = options.noWarnings ? log.diagnostics.filter { $0.severity != .warning } : log.diagnostics
        if !shown.isEmpty { printError(shown.map(\.description).joined(separator: "\n")) }
        if log.hasErrors { return 1 }

        if let output = options.output {
            let rendered = flat.unparse()
            if output == "-" {
                print(rendered, terminator: "")
            } else if !writeFile(output, rendered) {
                printError("clickos-vm: \(output): \(String(cString: strerror(errno)))")
                return 1
            }
        }
        if !options.quit {
            printError("clickos-vm: running a configuration is not available yet; use -q to check it")
            return 1
        }
        return 0
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

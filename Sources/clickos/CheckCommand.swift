import ArgumentParser
import Planner

#if canImport(Glibc)
import Glibc
#endif

/// `clickos check FILE...`: validates chain files exactly as `apply` will, changing
/// nothing: every problem on a line of its own, `FILE:LINE:COLUMN: FIELD: what`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check chain files (YAML and every function's Click configuration) without applying them.")

    @Argument(help: "Chain files.") var files: [String]
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        var failed = false
        var results: [String] = []
        for file in files {
            do {
                let chain = try ChainFile.load(path: file)
                let summary = "\(file): chain \(chain.name): \(chain.functions.map(\.name).joined(separator: " -> ")), \(Int(chain.declaredPps)) pps declared"
                if json {
                    results.append("{\"file\": \(jsonString(file)), \"chain\": \(jsonString(chain.name)), \"ok\": true, \"problems\": []}")
                } else {
                    print(summary)
                }
            } catch {
                failed = true
                if json {
                    results.append("{\"file\": \(jsonString(file)), \"ok\": false, \"problems\": [\(error.problems.map(jsonString).joined(separator: ", "))]}")
                } else {
                    for p in error.problems { printError(p) }
                }
            }
        }
        if json { print("[" + results.joined(separator: ",\n ") + "]") }
        if failed { throw ExitCode(1) }
    }
}

import ArgumentParser
import Messaging

/// `clickos keygen NAME`: a CURVE key pair for a planner, an agent or a CLI user.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub (give it to the planner's authorized directory).")

    @Argument(help: "Name of the key files.") var name: String
    @Option(help: "Directory to write them in.") var dir: String = "."

    func run() throws {
        guard !name.isEmpty, !name.contains("/") else { throw ValidationError("NAME must be a plain file name") }
        do {
            let pair = try CurveKeyFiles.generate(name: name, in: dir)
            print("\(dir)/\(name).key (secret) and \(dir)/\(name).pub: public key \(pair.publicKey)")
        } catch {
            printError("clickos keygen: \(error)")
            throw ExitCode(1)
        }
    }
}

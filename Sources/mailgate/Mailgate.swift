import ArgumentParser
import Foundation
import MailgateCore

/// The `mailgate` command line (SPEC §1).
@main
struct Mailgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailgate",
        abstract: "An HTTP-to-SMTP gateway: POST one JSON request, mailgate stores it, delivers it and reports each outcome.",
        discussion: """
            Configuration comes from MAILGATE_* environment variables; `serve` takes each one as a --flag too.
            Run `mailgate check-config` to see the effective configuration.
            """,
        version: Gateway.version,
        subcommands: [Serve.self, Send.self, Queue.self, CheckConfig.self, Version.self],
        defaultSubcommand: Serve.self
    )

    /// Exit statuses: 0 done, 1 an error, 2 a usage error (ArgumentParser's own is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("mailgate: \(failure.message)\n".utf8))
            Foundation.exit(failure.status)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// An error the command reports on stderr as one line, with its exit status.
struct CommandFailure: Error {
    var message: String
    var status: Int32 = 1
}

/// `mailgate version`
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("mailgate \(Gateway.version)")
    }
}

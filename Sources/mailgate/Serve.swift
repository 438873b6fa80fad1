import ArgumentParser
import Foundation
import MailgateCore

/// `mailgate` / `mailgate serve`: runs the gateway in the foreground until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway in the foreground until SIGTERM/SIGINT.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        let status = await Gateway.serve(configuration)
        if status != 0 { throw CommandFailure(message: "stopped after an error (see the log above)", status: status) }
    }
}

/// `mailgate check-config`: validates the configuration and prints it, secrets masked.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print every variable (secrets masked); exit 0 if valid, 1 if not.")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let loader = options.loader
        for line in loader.maskedListing { print(line) }
        do {
            _ = try loader.load()
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}

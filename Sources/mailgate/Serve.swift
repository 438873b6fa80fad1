import ArgumentParser
import Foundation
import MailgateCore

/// `mailgate` / `mailgate serve`: runs the gateway in the foreground until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway in the foreground until SIGTERM/SIGINT.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let loader = options.loader
        let configuration: GatewayConfiguration
        do throws(ConfigurationError) {
            configuration = try loader.load()
        } catch {
            Gateway.reportConfigurationError(error, logFormat: loader.requestedLogFormat)
            throw ExitCode(1)
        }
        // A failure to start is already in the log, as its one critical line.
        let status = await Gateway.serve(configuration)
        if status != 0 { throw ExitCode(status) }
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
            try ConfigurationLoader.checkDataDirectory(of: try loader.load())
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}

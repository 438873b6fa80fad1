import ArgumentParser
import Foundation
import MailQueue
import MailgateCore

/// `mailgate queue …`: inspects and acts on the queue in the store directly, while
/// the gateway runs or while it is stopped (like postqueue and postsuper).
struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and act on the queue directly in the store.",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List messages, newest first (those still queued by default).")

        @Option(help: "A message status (scheduled, queued, complete, canceled) or a recipient status (deferred, bounced, …).")
        var status: String?
        @Option(help: "The most messages to list.") var limit: Int = 1000
        @Flag(help: "Print JSON instead of a table.") var json = false
        @OptionGroup var location: QueueLocation

        func validate() throws {
            if let status, !QueueAdministration.statusNames.contains(status) {
                throw ValidationError("unknown status \(status) (one of \(QueueAdministration.statusNames.sorted().joined(separator: ", ")))")
            }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            let messages = try await withQueue(location) { queue throws(StoreError) in try await queue.list(status: status, limit: limit) }
            print(json ? QueueAdministration.json(messages) : QueueAdministration.table(messages))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one message as JSON, with its recipients and events.")

        @Argument(help: "The message id (msg_…).") var id: String
        @OptionGroup var location: QueueLocation

        func run() async throws {
            guard let message = try await withQueue(location, { queue throws(StoreError) in try await queue.show(id: id) }) else {
                throw CommandFailure(message: "no message \(id) in the queue")
            }
            print(QueueAdministration.json(message))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make deferred recipients due now: of one message, or --all.")

        @Argument(help: "The message id (msg_…).") var id: String?
        @Flag(help: "Every message's deferred recipients.") var all = false
        @OptionGroup var location: QueueLocation

        func validate() throws {
            guard (id == nil) != (!all) else { throw ValidationError("give a message id or --all, not both or neither") }
        }

        func run() async throws {
            let (count, known) = try await withQueue(location) { queue throws(StoreError) in
                let count = try await queue.retry(id: all ? nil : id)
                guard count == 0, !all, let id else { return (count, true) }
                return (count, try await queue.show(id: id) != nil)
            }
            guard known else { throw CommandFailure(message: "no message \(id ?? "") in the queue") }
            print("\(count) recipient\(count == 1 ? "" : "s") due for delivery now")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel every recipient of a message that is not yet final.")

        @Argument(help: "The message id (msg_…).") var id: String
        @OptionGroup var location: QueueLocation

        func run() async throws {
            switch try await withQueue(location, { queue throws(StoreError) in try await queue.cancel(id: id) }) {
            case .notFound: throw CommandFailure(message: "no message \(id) in the queue")
            case .nothingToCancel: throw CommandFailure(message: "every recipient of \(id) is already final; nothing to cancel")
            case .canceled(_, let count): print("canceled \(count) recipient\(count == 1 ? "" : "s") of \(id)")
            }
        }
    }
}

/// Where the queue is: PostgreSQL when `--database-url` or `MAILGATE_DATABASE_URL`
/// is given, else the SQLite data directory: `--data-dir`, else `MAILGATE_DATA_DIR`,
/// else the default.
struct QueueLocation: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory (env MAILGATE_DATA_DIR; default ./mailgate-data).", valueName: "path"))
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: ArgumentHelp("The PostgreSQL queue (env MAILGATE_DATABASE_URL); overrides --data-dir.", valueName: "url"))
    var databaseURL: String?

    private var values: [ConfigurationKey: String] { ConfigurationLoader(environment: ProcessInfo.processInfo.environment).values }

    var path: String { dataDirectory ?? values[.dataDirectory] ?? "./mailgate-data" }

    /// The PostgreSQL URL, if one is given; a malformed one is a usage error naming the variable.
    func database() throws(CommandFailure) -> DatabaseURL? {
        guard let text = databaseURL ?? values[.databaseURL], !text.isEmpty else { return nil }
        do {
            return try DatabaseURL.parse(text)
        } catch {
            throw CommandFailure(message: "MAILGATE_DATABASE_URL: \(error.reason)", status: 2)
        }
    }
}

/// Opens the queue, runs `body`, and closes it; store errors become one-line failures.
private func withQueue<T>(
    _ location: QueueLocation, _ body: (QueueAdministration) async throws(StoreError) -> T
) async throws(CommandFailure) -> T {
    let queue: QueueAdministration
    if let database = try location.database() {
        do {
            queue = try QueueAdministration(databaseURL: database)
        } catch {
            throw CommandFailure(message: "cannot open the queue at \(database.masked): \(error)")
        }
    } else {
        do {
            queue = try QueueAdministration(dataDirectory: location.path)
        } catch {
            throw CommandFailure(message: "cannot open the queue in \(location.path): \(error)")
        }
    }
    do {
        let result = try await body(queue)
        await queue.close()
        return result
    } catch {
        await queue.close()
        throw CommandFailure(message: "\(error)")
    }
}

import Testing

@testable import MailgateCore

@Suite struct ConfigurationValuesTests {
    @Test(arguments: [("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("3d", 259_200_000)])
    func parsesDurations(text: String, milliseconds: Int64) throws {
        #expect(try ConfigurationValues.duration(text) == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "30", "s", "1.5s", "-1s", "5 m", "5M", "1w", "ms", "1e3s"])
    func refusesBadDurations(text: String) {
        #expect(throws: ConfigurationProblem.self) { try ConfigurationValues.duration(text) }
    }

    @Test(arguments: [("1024", 1024), ("100KB", 100_000), ("10MB", 10_000_000), ("64KiB", 65_536), ("25MiB", 26_214_400), ("1GB", 1_000_000_000)])
    func parsesSizes(text: String, bytes: Int) throws {
        #expect(try ConfigurationValues.size(text) == bytes)
    }

    @Test(arguments: ["", "10mb", "1.5MB", "MB", "-1", "10 MB", "10TB"])
    func refusesBadSizes(text: String) {
        #expect(throws: ConfigurationProblem.self) { try ConfigurationValues.size(text) }
    }

    @Test func formatsDurationsBack() {
        #expect(ConfigurationValues.format(.seconds(90)) == "90s")
        #expect(ConfigurationValues.format(.seconds(3600)) == "1h")
        #expect(ConfigurationValues.format(.milliseconds(250)) == "250ms")
    }
}

@Suite struct ConfigurationLoaderTests {
    @Test func defaultsMatchTheContract() throws {
        let configuration = try ConfigurationLoader(environment: [:]).load()
        #expect(configuration.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(configuration.dataDirectory == "./mailgate-data")
        #expect(configuration.mxPort == 25)
        #expect(configuration.retrySchedule.count == 7)
        #expect(configuration.maxQueueLifetime == .seconds(5 * 86_400))
        #expect(configuration.smtpTimeout == .seconds(60))
        #expect(configuration.smtpConnections == 32)
        #expect(configuration.destinationConnections == 8)
        #expect(configuration.maxMessageSize == 25_000_000)
        #expect(configuration.maxRecipients == 1000)
        #expect(configuration.queueLimit == 1_000_000)
        #expect(configuration.webhookTimeout == .seconds(10))
        #expect(!configuration.webhookAllowPrivate)
        #expect(configuration.relay == nil)
    }

    @Test func flagsBeatVariables() throws {
        let loader = ConfigurationLoader(environment: ["MAILGATE_MX_PORT": "2525"], overrides: [.mxPort: "2626"])
        #expect(try loader.load().mxPort == 2626)
    }

    @Test(arguments: [
        (["MAILGATE_LISTEN": "0.0.0.0:8080"], ConfigurationKey.apiKeys),
        (["MAILGATE_LISTEN": "nonsense"], .listen),
        (["MAILGATE_LISTEN": "[::]", "MAILGATE_API_KEYS": "k"], .listen),
        (["MAILGATE_LISTEN": "[::1]"], .listen),
        (["MAILGATE_SMTP_TIMEOUT": "abc"], .smtpTimeout),
        (["MAILGATE_SMTP_TIMEOUT": "0s"], .smtpTimeout),
        (["MAILGATE_MAX_MESSAGE_SIZE": "lots"], .maxMessageSize),
        (["MAILGATE_RELAY": "http://relay"], .relay),
        (["MAILGATE_RELAY": "smtp://relay?bogus=1"], .relay),
        (["MAILGATE_WEBHOOK_SECRET": "whsec_c2hvcnQ="], .webhookSecret),
        (["MAILGATE_WEBHOOK_SECRET": "nope"], .webhookSecret),
        (["MAILGATE_WEBHOOK_URL": "http://10.0.0.1/hook"], .webhookURL),
        (["MAILGATE_WEBHOOK_ALLOW_PRIVATE": "maybe"], .webhookAllowPrivate),
        (["MAILGATE_LOG_LEVEL": "loud"], .logLevel),
        (["MAILGATE_LOG_FORMAT": "xml"], .logFormat),
        (["MAILGATE_RETRY_SCHEDULE": " , "], .retrySchedule),
        (["MAILGATE_RETRY_SCHEDULE": "1m,0s"], .retrySchedule),
        (["MAILGATE_RETRY_SCHEDULE": "1m,,5m"], .retrySchedule),
        (["MAILGATE_WEBHOOK_RETRY_SCHEDULE": "5s,"], .webhookRetrySchedule),
        (["MAILGATE_SMTP_CONNECTIONS": "0"], .smtpConnections),
        (["MAILGATE_HELO_NAME": "bad name"], .heloName),
        (["MAILGATE_DATABASE_URL": "mysql://x"], .databaseURL),
    ] as [([String: String], ConfigurationKey)])
    func badValuesNameTheirVariable(environment: [String: String], key: ConfigurationKey) {
        #expect {
            try ConfigurationLoader(environment: environment).load()
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    @Test func nonLoopbackListenWorksWithKeys() throws {
        let configuration = try ConfigurationLoader(environment: ["MAILGATE_LISTEN": "[::]:8080", "MAILGATE_API_KEYS": "k1, k2"]).load()
        #expect(configuration.apiKeys == ["k1", "k2"])
        #expect(configuration.listen.description == "[::]:8080")
    }

    @Test func relayURLsParse() throws {
        let relay = try RelayConfiguration.parse("smtp://user%40x:p%3Ass@relay.example.com:587?starttls=required&tls_verify=false")
        #expect(relay.username == "user@x")
        #expect(relay.password == "p:ss")
        #expect(relay.port == 587)
        #expect(relay.security == .startTLSRequired)
        #expect(!relay.verifyCertificates)
        #expect(relay.masked == "smtp://user%40x:****@relay.example.com:587?starttls=required&tls_verify=false")
        #expect(try RelayConfiguration.parse("smtps://relay.example.com").port == 465)
        #expect(try RelayConfiguration.parse("smtp://127.0.0.1").isLoopback)
    }

    @Test func checkConfigMasksSecrets() {
        let loader = ConfigurationLoader(environment: [
            "MAILGATE_API_KEYS": "secret-key",
            "MAILGATE_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MAILGATE_RELAY": "smtp://u:hunter2@relay.example.com:587",
            "MAILGATE_DATABASE_URL": "postgres://pg:pgpass@db:5432/mailgate",
        ])
        let listing = loader.maskedListing.joined(separator: "\n")
        for secret in ["secret-key", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "hunter2", "pgpass"] {
            #expect(!listing.contains(secret))
        }
        let inQuery = try? DatabaseURL.parse("postgres://pg@db/mailgate?sslmode=disable&password=pgpass&sslpassword=keypass")
        #expect(inQuery?.masked == "postgres://pg@db/mailgate?sslmode=disable&password=****&sslpassword=****")
        #expect(listing.contains("MAILGATE_API_KEYS=****"))
        #expect(listing.contains("MAILGATE_RELAY=smtp://u:****@relay.example.com:587"))
        #expect(loader.maskedListing.count == ConfigurationKey.allCases.count)
    }

    @Test func flagNamesFollowTheVariables() {
        #expect(ConfigurationKey.smtpTimeout.flag == "--smtp-timeout")
        #expect(ConfigurationKey.dataDirectory.flag == "--data-dir")
        #expect(ConfigurationKey.webhookAllowPrivate.flag == "--webhook-allow-private")
    }
}

/// The OpenAPI 3.1 document served at `/openapi.yaml`: the repository's
/// `openapi.yaml`, embedded at build time (through a symbolic link in
/// Resources/) so the two can never differ.
enum OpenAPIDocument {
    static var bytes: [UInt8] { PackageResources.openapi_yaml }
}

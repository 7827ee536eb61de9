namespace ModelLibrary.Sources.Oci;

/// <summary>The errors of the OCI source, one factory each.</summary>
internal static class RegistryErrors
{
    public static ModelLibraryException AuthenticationRequired(string registry, int status, RegistryLogin login, string? detail = null)
    {
        var had = login.Credential is { } c ? $" with the credential of {c.Origin}" : " without a credential";
        var steps = new List<string>
        {
            $"Register the registry with its credential: Register-ModelSource -Name <name> -Type Oci -Uri https://{registry} -Credential (Get-Credential).",
            $"Or log in with 'docker login {registry}' so that $DOCKER_CONFIG/config.json has an auths entry for it.",
        };
        if (login.Credential is null && login.UnsupportedHelper is { } helper)
        {
            steps.Insert(0, $"Docker's config.json keeps this registry's login in the credential helper '{helper}', which ModelLibrary does not run; give -Credential instead.");
        }

        var what = status == 403 ? "refused access (HTTP 403)" : "requires authentication (HTTP 401)";
        var helperNote = login.Credential is null && login.UnsupportedHelper is { } h ? $" (the credential helper '{h}' named in Docker's config.json is not supported)" : "";
        return Errors.AuthenticationRequired(registry,
            $"The registry '{registry}' {what}; the request was sent{had}{helperNote}.{(detail is null ? "" : " " + detail)}",
            status, steps);
    }

    public static ModelLibraryException NotFound(OciReference reference, string what) => Errors.ModelNotFound(reference.ToString(),
        $"The registry '{reference.Registry}' has no {what} for '{reference}'.",
        new Dictionary<string, object?> { ["model_id"] = reference.ToString(), ["registry"] = reference.Registry },
        new[] { $"List the repository's tags with Get-LibraryModel -Source <the registry's source name>.", "Check the repository name and the tag." });

    /// <summary>A manifest or config the library will not read: too large, not JSON, not a model, an unknown layer type.</summary>
    public static ValidationException InvalidArtifact(OciReference reference, string why) => Errors.InvalidModelFile(
        $"'{reference}' is not a model artifact this library can pull: {why}.", reference.ToString(),
        new Dictionary<string, object?> { ["model_id"] = reference.ToString(), ["registry"] = reference.Registry },
        "Pull a CNCF ModelPack, Docker Model Runner or Ollama model artifact; check what the reference holds with 'skopeo inspect --raw docker://<reference>'.");

    public static ValidationException DigestMismatch(OciReference reference, string expected, string actual) => Errors.ChecksumMismatch(
        $"The registry '{reference.Registry}' sent content for '{reference}' that does not match its digest: expected {expected}, got {actual}.",
        reference.ToString(),
        new Dictionary<string, object?> { ["model_id"] = reference.ToString(), ["expected"] = expected, ["actual"] = actual },
        "If it fails again, the registry's storage holds a damaged blob: push the model again.");

    public static NetworkException Unreachable(string registry, string why, int? status = null, Exception? inner = null) => Errors.NetworkFailure(
        $"The registry '{registry}' cannot be used: {why}.", status, registry, inner,
        new Dictionary<string, object?> { ["registry"] = registry, ["http_status"] = status });
}

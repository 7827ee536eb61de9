namespace ModelLibrary.Net;

/// <summary>
/// The Hub's errors as library errors. The Hub names the failure in <c>X-Error-Code</c> (huggingface_hub's
/// utils/_http.py, <c>hf_raise_for_status</c>): <c>GatedRepo</c> (401/403), <c>RepoNotFound</c> (401 without a token,
/// for a missing or private repository alike; 404 with one), <c>RevisionNotFound</c>, <c>EntryNotFound</c>.
/// 401/403 become AuthenticationRequired with what to do; 404s become ModelNotFound naming what is missing.
/// </summary>
public static class HubErrors
{
    public const string ErrorCodeHeader = "X-Error-Code";

    /// <summary>The error for a Hub answer that carries <c>X-Error-Code</c>, or for 401/403 from the Hub; null otherwise.</summary>
    public static ModelLibraryException? FromResponse(HttpResponseMessage response, string target, Func<string, string>? repositoryPage = null, string? repoId = null)
    {
        var code = response.Headers.TryGetValues(ErrorCodeHeader, out var values) ? values.FirstOrDefault() : null;
        var status = (int)response.StatusCode;
        if (code is null && (repositoryPage is null || status is not (401 or 403)))
        {
            return null;
        }

        repoId ??= RepoFromUrl(response.RequestMessage?.RequestUri);
        var page = repositoryPage?.Invoke(repoId ?? "") ?? (response.RequestMessage?.RequestUri is { } u ? $"{u.Scheme}://{u.Authority}/{repoId}" : repoId);
        var sentToken = response.RequestMessage?.Headers.Authorization is not null;
        var details = new Dictionary<string, object?> { ["reference"] = target, ["repository"] = repoId, ["http_status"] = status, ["error_code"] = code };
        switch (code)
        {
            case "GatedRepo":
                return Errors.AuthenticationRequired(target,
                    $"The repository '{repoId}' is gated: its licence must be accepted at {page} by the account of the token, and HF_TOKEN must be set to that token" +
                    (sentToken ? " (a token was sent, but its account has no access yet)." : " (no token was sent)."), status,
                    new[] { $"Open {page}, sign in and accept the licence.", "Create a read token at https://huggingface.co/settings/tokens and set $env:HF_TOKEN to it,", "or register the Hub with Register-ModelSource -Type HuggingFace -Credential." });
            case "RepoNotFound" when status is 401 or 403:
                return Errors.AuthenticationRequired(target,
                    $"The repository '{repoId}' does not exist or is private" + (sentToken ? ": the token sent has no access to it." : ", and no token was sent (set HF_TOKEN for a private repository)."), status,
                    new[] { "Check the owner and repository name.", "For a private repository, set $env:HF_TOKEN to a token with access (or Register-ModelSource -Type HuggingFace -Credential)." });
            case "RepoNotFound":
                return Missing(target, $"The repository '{repoId}' was not found on the Hub.", details);
            case "RevisionNotFound":
                return Missing(target, $"The revision asked for was not found in the repository '{repoId}' (no such branch, tag or commit).", details);
            case "EntryNotFound":
                return Missing(target, $"The file asked for is not in the repository '{repoId}' at that revision.", details);
        }

        if (status is 401 or 403)
        {
            return Errors.AuthenticationRequired(target,
                $"The Hub refused access to '{repoId}' (HTTP {status})" + (sentToken ? "; the token sent is not valid for it." : "; no token was sent."), status,
                new[] { "Set $env:HF_TOKEN to a valid token (or Register-ModelSource -Type HuggingFace -Credential)." });
        }

        return null;
    }

    static ModelLibraryException Missing(string target, string message, IReadOnlyDictionary<string, object?> details) => Errors.ModelNotFound(
        target, message, details,
        new[] { "Check the reference: hf.co/<owner>/<repo>[:<quant>] or hf.co/<owner>/<repo>/<file>, with @<revision> for a branch, tag or commit (refs/pr/<n> too).", "Find-LibraryModel <words> searches the Hub." });

    /// <summary><c>owner/repo</c> from an API (<c>/api/models/o/r/...</c>) or resolve (<c>/o/r/resolve/...</c>) URL.</summary>
    static string? RepoFromUrl(Uri? url)
    {
        if (url is null)
        {
            return null;
        }

        var segments = url.AbsolutePath.Trim('/').Split('/');
        var start = segments.Length > 2 && segments[0] == "api" ? 2 : 0;
        return segments.Length >= start + 2 ? Uri.UnescapeDataString(segments[start]) + "/" + Uri.UnescapeDataString(segments[start + 1]) : null;
    }
}

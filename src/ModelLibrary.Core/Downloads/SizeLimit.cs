namespace ModelLibrary.Downloads;

/// <summary>
/// The size a catalog declares (or a server states) is an upper bound: a body that passes it is not the model,
/// whatever it is, and is stopped at once rather than left to fill the disk.
/// </summary>
internal static class SizeLimit
{
    /// <summary>Most bytes a body may bring: what the server stated, else what the catalog declared, else no limit.</summary>
    public static long? For(ResumeState state) => state.TotalSize ?? state.Request.DeclaredSize;

    /// <summary>Fails when the server states a size above the declared one (before a byte of the body is kept).</summary>
    public static void CheckStated(DownloadRequest request, long? stated, string where)
    {
        if (stated is { } length && request.DeclaredSize is { } declared && declared > 0 && length > declared)
        {
            throw new DiscardPartialException(TooLarge(request,
                $"the server states {ByteSize.Format(length)} ({length} bytes) in {where}, more than the {ByteSize.Format(declared)} ({declared} bytes) its catalog declares; nothing was downloaded"));
        }
    }

    /// <summary>The body went on past <paramref name="limit"/>: stopped there, the partial is deleted.</summary>
    public static DiscardPartialException Passed(DownloadRequest request, long limit, bool declaredOnly) => new(TooLarge(request,
        $"the server sent more than the {ByteSize.Format(limit)} ({limit} bytes) {(declaredOnly ? "its catalog declares (the server stated no size)" : "it stated")}; the download was stopped there and the partial file deleted"));

    static ValidationException TooLarge(DownloadRequest request, string why) => new(ErrorIds.InvalidModelFile,
        $"Downloading '{request.ModelId}' failed: {why}.",
        request.ModelId,
        new Dictionary<string, object?> { ["model_id"] = request.ModelId, ["url"] = Net.SafeUrl.Masked(request.Url), ["declared_size"] = request.DeclaredSize },
        new[]
        {
            "The URL does not serve the file the catalog describes: check the entry's download_url and size, or report it to the source's owner.",
            "Retrying will not help until the source is corrected.",
        });
}

/// <summary>A final failure after which the partial file is worthless (a web page, an oversized body): it is deleted.</summary>
internal sealed class DiscardPartialException : Exception
{
    public DiscardPartialException(ModelLibraryException error) : base(error.Message, error) => Error = error;

    public ModelLibraryException Error { get; }
}

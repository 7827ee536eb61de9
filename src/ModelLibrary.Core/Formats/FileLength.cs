namespace ModelLibrary.Formats;

/// <summary>
/// A file's length with links followed: a Hugging Face cache snapshot holds links to its blobs, and the length of
/// the link itself (the length of its target's name) says nothing about the model.
/// </summary>
public static class FileLength
{
    public static long Of(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target.Length : info.Length;
    }
}

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Reports on the calling thread, while Core's work runs. <see cref="Progress{T}"/> would report later on the thread
/// pool, possibly after the work (and the cmdlet's pipeline-thread loop) ended, when no Write* may be called.
/// </summary>
internal sealed class InlineProgress<T> : IProgress<T>
{
    readonly Action<T> report;

    public InlineProgress(Action<T> report) => this.report = report;

    public void Report(T value) => report(value);
}

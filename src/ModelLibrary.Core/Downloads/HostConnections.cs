namespace ModelLibrary.Downloads;

/// <summary>
/// One connection budget per host, shared by every download in this process: <c>DownloadConnections</c> is the most
/// connections all downloads together hold to one host, so three downloads from one CDN share its 16 rather than
/// opening 48. A download's first connection waits for a free one; the connections it adds only take what is free.
/// </summary>
internal static class HostConnections
{
    static readonly Dictionary<string, Budget> Budgets = new(StringComparer.OrdinalIgnoreCase);

    public static Budget For(Uri url)
    {
        var key = url.IdnHost + ":" + url.Port;
        lock (Budgets)
        {
            if (!Budgets.TryGetValue(key, out var budget))
            {
                Budgets[key] = budget = new Budget();
            }

            return budget;
        }
    }

    /// <summary>Connections in use to one host.</summary>
    internal sealed class Budget
    {
        readonly object gate = new();
        readonly LinkedList<TaskCompletionSource> waiters = new();
        int inUse;

        public int InUse { get { lock (gate) { return inUse; } } }

        /// <summary>Takes a connection if fewer than <paramref name="cap"/> are in use.</summary>
        public bool TryAcquire(int cap)
        {
            lock (gate)
            {
                if (inUse >= cap)
                {
                    return false;
                }

                inUse++;
                return true;
            }
        }

        /// <summary>Waits until fewer than <paramref name="cap"/> are in use, then takes one.</summary>
        public async Task AcquireAsync(int cap, CancellationToken cancellationToken)
        {
            while (true)
            {
                TaskCompletionSource waiter;
                lock (gate)
                {
                    if (inUse < cap)
                    {
                        inUse++;
                        return;
                    }

                    waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    waiters.AddLast(waiter);
                }

                // Bounded, so a cap raised by Set-ModelLibraryConfiguration is seen without a release.
                using (cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken)))
                {
                    await Task.WhenAny(waiter.Task, Task.Delay(500, cancellationToken)).ConfigureAwait(false);
                }

                lock (gate)
                {
                    waiters.Remove(waiter);
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        public void Release()
        {
            TaskCompletionSource? next = null;
            lock (gate)
            {
                inUse--;
                if (waiters.First is { } first)
                {
                    next = first.Value;
                    waiters.RemoveFirst();
                }
            }

            next?.TrySetResult();
        }
    }
}

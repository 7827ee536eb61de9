namespace ModelLibrary.Downloads;

/// <summary>
/// Slots for transfers (MaxConcurrentDownloads): a semaphore whose size can change while downloads wait, as a
/// session may change the setting. Waiters are served first come, first served.
/// </summary>
public sealed class ConcurrencyGate
{
    readonly object sync = new();
    readonly LinkedList<TaskCompletionSource<bool>> waiters = new();
    int limit;
    int active;

    public ConcurrencyGate(int limit) => Limit = limit;

    public int Limit
    {
        get
        {
            lock (sync)
            {
                return limit;
            }
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (sync)
            {
                limit = value;
                WakeWaiters();
            }
        }
    }

    /// <summary>Transfers holding a slot now.</summary>
    public int Active
    {
        get
        {
            lock (sync)
            {
                return active;
            }
        }
    }

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> waiter;
        LinkedListNode<TaskCompletionSource<bool>> node;
        lock (sync)
        {
            if (active < limit && waiters.Count == 0)
            {
                active++;
                return new Slot(this);
            }

            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = waiters.AddLast(waiter);
        }

        using (cancellationToken.Register(() =>
               {
                   lock (sync)
                   {
                       // Only a waiter still in line is cancelled; one already granted keeps its slot and returns it.
                       if (node.List is not null)
                       {
                           waiters.Remove(node);
                           waiter.TrySetCanceled(cancellationToken);
                       }
                   }
               }))
        {
            await waiter.Task;
        }

        return new Slot(this);
    }

    void Release()
    {
        lock (sync)
        {
            active--;
            WakeWaiters();
        }
    }

    void WakeWaiters()
    {
        while (active < limit && waiters.First is { } first)
        {
            waiters.RemoveFirst();
            active++;
            first.Value.TrySetResult(true);
        }
    }

    sealed class Slot : IDisposable
    {
        ConcurrencyGate? gate;

        public Slot(ConcurrencyGate gate) => this.gate = gate;

        public void Dispose() => Interlocked.Exchange(ref gate, null)?.Release();
    }
}

namespace TokenMetrics.Tests.Performance;

/// <summary>How the per-call guards measure: bytes this thread allocates per call, the lowest of several rounds.</summary>
internal static class ThreadAllocations
{
    /// <summary>Runs <paramref name="call"/> <paramref name="calls"/> times per round and returns the lowest bytes per call.</summary>
    /// <remarks>The lowest round: the export lane's dispatcher sometimes resumes inline on the caller's thread (its wake-up after an
    /// enqueue), adding its batch work to one round's count; a real per-call cost is in every round.</remarks>
    public static double LowestPerCall(Action call, int calls, int rounds)
    {
        var lowest = double.MaxValue;
        for (var round = 0; round < rounds; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < calls; i++)
            {
                call();
            }

            lowest = Math.Min(lowest, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls);
        }

        return lowest;
    }
}

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace MeshAgent.Benchmarks;

/// <summary>
/// One launch, 3 warm-up and 5 measured iterations: enough to rank implementations that differ by tens of
/// percent on a shared 2-core machine, short enough to run the whole suite in a few minutes. For publishable
/// numbers run with <c>--job default</c> on an idle machine.
/// </summary>
public sealed class ShortRunConfig : ManualConfig
{
    public ShortRunConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

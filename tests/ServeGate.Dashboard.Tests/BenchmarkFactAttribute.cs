namespace ServeGate.Dashboard.Tests;

/// <summary>A benchmark, not a test: skipped unless <see cref="Variable"/> is set, so ./test.sh never runs it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public const string Variable = "SERVEGATE_DASHBOARD_BENCHMARK";

    public BenchmarkFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"A benchmark: set {Variable}=RECORDS to run it (docs/benchmarks.md, \"Dashboard\").";
        }
    }
}

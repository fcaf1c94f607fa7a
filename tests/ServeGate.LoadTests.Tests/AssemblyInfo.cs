// The measurement tests compare timings against a fake server's known delays; running test classes in parallel
// on a 2-core machine would make the jitter, not the load tester, the thing measured.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

using ServeGate.Tests.Common;

namespace ServeGate.LlamaCpp.Tests;

/// <summary>
/// A context computes on a persistent thread pool (as llama-bench and llama-server do), not on threads that ggml
/// creates and joins inside every llama_decode.
/// </summary>
public sealed class ThreadpoolTests
{
    [Fact]
    public async Task Create_Context_StartsPersistentWorkersThatStopOnDispose()
    {
        using var model = LlamaModel.Load(await TestModels.GetAsync(TestModel.TinyBase));

        // Linux threads inherit their creator's name: create the context from a thread with a name of its own and
        // count the threads that carry it. ggml's pool of N threads starts N - 1 workers (the caller is thread 0).
        const string Name = "sg-pool-probe";
        var counts = new int[3];
        long workerNanosecondsInDecode = 0;
        var probe = new Thread(() =>
        {
            counts[0] = ThreadsNamed(Name).Count;
            var context = LlamaContext.Create(model, new LlamaContextOptions { ContextLength = 512, Threads = 3 });
            using var batch = new LlamaBatch(256);
            var prompt = Enumerable.Range(0, 256).Select(i => new Native.LlamaToken(100 + i)).ToArray();
            Decode(context, batch, prompt);
            var workers = ThreadsNamed(Name).Where(task => !IsCurrent(task)).ToList();
            counts[1] = workers.Count + 1;

            // The workers do the decode's work: their CPU time grows. A pool created but not attached would sleep.
            var before = workers.Sum(CpuNanoseconds);
            for (var i = 0; i < 4; i++)
            {
                Decode(context, batch, prompt);
            }

            workerNanosecondsInDecode = workers.Sum(CpuNanoseconds) - before;
            context.Dispose();
            counts[2] = ThreadsNamed(Name).Count;
        }) { Name = Name };
        probe.Start();
        probe.Join();

        Assert.Equal(1, counts[0]); // the probe itself
        Assert.Equal(3, counts[1]); // plus two persistent workers, alive between decodes
        Assert.True(workerNanosecondsInDecode > 1_000_000, $"the pool's workers ran {workerNanosecondsInDecode} ns during four decodes");
        Assert.Equal(1, counts[2]); // joined when the context is disposed
    }

    private static void Decode(LlamaContext context, LlamaBatch batch, Native.LlamaToken[] prompt)
    {
        context.ClearMemory();
        batch.Clear();
        for (var i = 0; i < prompt.Length; i++)
        {
            batch.Add(prompt[i], i, new Native.LlamaSeqId(0), wantLogits: i == prompt.Length - 1);
        }

        Assert.Equal(0, context.Decode(batch));
    }

    /// <summary>The task ids (Linux thread ids) of this process's threads named <paramref name="name"/>.</summary>
    private static List<string> ThreadsNamed(string name) =>
        [.. Directory.EnumerateDirectories("/proc/self/task").Where(task => Read(task, "comm").TrimEnd('\n') == name).Select(task => Path.GetFileName(task))];

    private static bool IsCurrent(string task) => File.ReadAllText("/proc/thread-self/stat").Split(' ')[0] == task;

    /// <summary>Time the thread has run on a CPU, in nanoseconds (first field of schedstat).</summary>
    private static long CpuNanoseconds(string task) =>
        long.TryParse(Read(Path.Combine("/proc/self/task", task), "schedstat").Split(' ')[0], out var ns) ? ns : 0;

    private static string Read(string task, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, file));
        }
        catch (IOException)
        {
            return string.Empty; // the thread ended while we looked
        }
    }
}

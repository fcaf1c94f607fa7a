using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Models;
using ServeGate.Models.Gguf;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;

// dotnet run -c Release --project tests/ServeGate.Benchmarks -- generate smollm2-135m q4_k_m
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- engine MODEL.gguf [pp=512] [tg=128] [reps=5]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: generate PRESET TYPE | engine MODEL [pp] [tg] [reps]");
    return 2;
}

LlamaBackend.Initialize(new LlamaBackendOptions());
switch (args[0])
{
    case "generate":
        var spec = LlamaModelSpec.Presets.Single(p => p.Name == args[1]);
        var type = Enum.GetValues<GgufFileType>().Single(t => t.ToFileNamePart() == args[2]);
        Console.WriteLine(await DemoModelSource.EnsureAsync(spec, type, new LlamaGgufQuantizer(), new Progress<string>(Console.Error.WriteLine), CancellationToken.None));
        return 0;
    case "engine":
        return await EngineAsync(args[1], Arg(2, 512), Arg(3, 128), Arg(4, 5));
    default:
        Console.Error.WriteLine($"unknown command {args[0]}");
        return 2;
}

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;

// Prompt processing (pp) and single-stream generation (tg) through ServeGate's scheduler, as llama-bench defines them:
// pp = tokens of a fresh prompt / time to process it in one batch; tg = generated tokens / time, batch of one.
static async Task<int> EngineAsync(string path, int pp, int tg, int reps)
{
    using var model = LlamaModel.Load(path);
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions { Parallel = 1, CacheSlots = 1, ContextLength = Math.Max(1024, pp + tg + 8) }, NullLogger.Instance);
    var random = new Random(1);
    LlamaToken[] RandomPrompt(int n) => [model.Bos, .. Enumerable.Range(1, n - 1).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];

    async Task<GenerationResult> RunAsync(LlamaToken[] prompt, int maxTokens)
    {
        var request = new GenerationRequest { RequestId = "bench", Prompt = prompt, MaxTokens = maxTokens, Sampling = new SamplingSettings { Temperature = 0 }, IgnoreEos = true };
        if (!scheduler.TrySubmit(request, CancellationToken.None, out var handle))
        {
            throw new InvalidOperationException("queue full");
        }

        await foreach (var e in handle.Events.ReadAllAsync())
        {
            if (e is GenerationCompleted c)
            {
                return c.Result;
            }
        }

        throw new InvalidOperationException("no result");
    }

    await RunAsync(RandomPrompt(32), 8); // warm-up (graph allocation, page faults)
    var ppRates = new List<double>();
    var tgRates = new List<double>();
    for (var r = 0; r < reps; r++)
    {
        // pp: a fresh random prompt (no prefix reuse), one generated token; its compute time is the prompt's batch.
        var p = await RunAsync(RandomPrompt(pp), 1);
        if (p.CachedTokens != 0)
        {
            throw new InvalidOperationException("the pp prompt hit the cache");
        }

        ppRates.Add(pp / p.ComputeSeconds);

        // tg: a one-token prompt, then tg tokens one step each; the first step (the prompt) is excluded.
        var sw = Stopwatch.StartNew();
        var g = await RunAsync(RandomPrompt(1), tg + 1);
        tgRates.Add(tg / ((g.DurationMs - g.TimeToFirstTokenMs) / 1000.0));
    }

    var report = new
    {
        model = Path.GetFileName(path),
        description = model.Description,
        threads = LlamaBackend.Info!.Threads,
        cpu_variant = LlamaBackend.Info.CpuVariant,
        pp_tokens = pp,
        tg_tokens = tg,
        reps,
        pp_tokens_per_second = new { mean = ppRates.Average(), stdev = StdDev(ppRates) },
        tg_tokens_per_second = new { mean = tgRates.Average(), stdev = StdDev(tgRates) },
    };
    Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

static double StdDev(List<double> values)
{
    var mean = values.Average();
    return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Count - 1));
}

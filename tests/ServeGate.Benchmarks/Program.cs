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
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- prefix MODEL.gguf [prefix=1000] [suffix=40] [reps=3] (SERVEGATE_SUFFIX_RECOMPUTE=Auto|Off)
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- concurrent MODEL.gguf [concurrency=8] [requests=32] [prompt=128] [output=64] (SERVEGATE_BENCH_STAGGER_MS: arrivals spread as over HTTP)
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- chunked MODEL.gguf [long=1800] [streams=4] [chunks=64,128,256,512,2048]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- burst MODEL.gguf [requests=16] [concurrency=8] [prompt=1300] [unique=91] [output=16]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- kvcopy MODEL.gguf [context=2048] [tokens=192,1200] [reps=10]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- bandwidth [MiB=512]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- constrained MODEL.gguf [requests=12] [output=128] [concurrency=1]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- ledger-write [records=200000] [producers=256]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- ledger-costs [records=1000000] [reps=21]
// dotnet run -c Release --project tests/ServeGate.Benchmarks -- ledger-postgres CONNECTION_STRING [records=1000000] [batch=256] [runs=20]
if (args is ["ledger-postgres", var connectionString, ..])
{
    return await ServeGate.Benchmarks.LedgerBenchmark.RunAsync(connectionString, Arg(2, 1_000_000), Arg(3, 256), Arg(4, 20));
}

if (args is ["bandwidth", ..])
{
    return Bandwidth(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 512);
}

if (args is ["ledger-write", ..])
{
    return await LedgerBenchmarks.WriteAsync(Arg(1, 200_000), Arg(2, 256));
}

if (args is ["ledger-costs", ..])
{
    return await LedgerBenchmarks.CostsAsync(Arg(1, 1_000_000), Arg(2, 21));
}

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: generate PRESET TYPE | engine MODEL [pp] [tg] [reps] | prefix MODEL [prefix] [suffix] [reps] | bandwidth [MiB]");
    return 2;
}

// The gateway's own environment settings for the llama.cpp build, so a comparison can pin both to one CPU variant.
LlamaBackend.Initialize(new LlamaBackendOptions
{
    LibraryPath = Environment.GetEnvironmentVariable("LlamaCpp__LibraryPath"),
    CpuVariant = Environment.GetEnvironmentVariable("LlamaCpp__CpuVariant"),
});
switch (args[0])
{
    case "generate":
        var spec = LlamaModelSpec.Presets.Single(p => p.Name == args[1]);
        var type = Enum.GetValues<GgufFileType>().Single(t => t.ToFileNamePart() == args[2]);
        Console.WriteLine(await DemoModelSource.EnsureAsync(spec, type, new LlamaGgufQuantizer(), new Progress<string>(Console.Error.WriteLine), CancellationToken.None));
        return 0;
    case "engine":
        return await EngineAsync(args[1], Arg(2, 512), Arg(3, 128), Arg(4, 5));
    case "concurrent":
        return await ConcurrentAsync(args[1], Arg(2, 8), Arg(3, 32), Arg(4, 128), Arg(5, 64));
    case "prefix":
        return await PrefixAsync(args[1], Arg(2, 1000), Arg(3, 40), Arg(4, 3));
    case "burst":
        return await BurstAsync(args[1], Arg(2, 16), Arg(3, 8), Arg(4, 1300), Arg(5, 91), Arg(6, 16));
    case "kvcopy":
        var lengths = args.Length > 3 ? args[3].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() : [192, 1200];
        return KvCopy(args[1], Arg(2, 2048), lengths, Arg(4, 10));
    case "constrained":
        return await ConstrainedAsync(args[1], Arg(2, 12), Arg(3, 128), Arg(4, 1));
    case "chunked":
        var chunks = args.Length > 4 ? args[4].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() : [64, 128, 256, 512, 2048];
        return await ChunkedAsync(args[1], Arg(2, 1800), Arg(3, 4), chunks);
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
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions
    {
        // SERVEGATE_BENCH_PARALLEL=8 measures single-stream speed in the serving configuration (8 sequences, 8 cache slots).
        Parallel = EnvironmentInt("SERVEGATE_BENCH_PARALLEL", 1),
        ContextLength = Math.Max(EnvironmentInt("SERVEGATE_BENCH_CONTEXT", 1024), pp + tg + 8),
        FlashAttention = FlashAttentionFromEnvironment(),
    }, NullLogger.Instance);
    var random = new Random(1);
    LlamaToken[] RandomPrompt(int n) => [model.Bos, .. Enumerable.Range(1, n - 1).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];

    Task<GenerationResult> RunAsync(LlamaToken[] prompt, int maxTokens) => GenerateAsync(scheduler, prompt, maxTokens);

    await RunAsync(RandomPrompt(32), 8); // warm-up (graph allocation, page faults)
    var ppRates = new List<double>();
    var tgRates = new List<double>();
    var tgDecodeRates = new List<double>();
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
        var (decodeBefore, stepsBefore) = (scheduler.Counters.DecodeSeconds, scheduler.Counters.Steps);
        var g = await RunAsync(RandomPrompt(1), tg + 1);
        tgRates.Add(tg / ((g.DurationMs - g.TimeToFirstTokenMs) / 1000.0));

        // The same steps counting llama_decode alone: what is left of the gap to tg is ServeGate's own per-step work.
        tgDecodeRates.Add((scheduler.Counters.Steps - stepsBefore) / (scheduler.Counters.DecodeSeconds - decodeBefore));
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
        tg_decode_only_tokens_per_second = new { mean = tgDecodeRates.Average(), stdev = StdDev(tgDecodeRates) },
    };
    Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

// Time to first token of a prompt whose prefix is cached, against the same prompt cold: the exact repeat (only the
// last token is computed) and the same prefix with a new suffix (the suffix is prefilled on top of the cached cells).
static async Task<int> PrefixAsync(string path, int prefix, int suffix, int reps)
{
    using var model = LlamaModel.Load(path);
    // SERVEGATE_BENCH_PARALLEL / SERVEGATE_BENCH_CONTEXT: the serving configuration (e.g. 8 sequences of 4,096 cells).
    var parallel = EnvironmentInt("SERVEGATE_BENCH_PARALLEL", 1);
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions
    {
        Parallel = parallel,
        CacheSlots = parallel,
        ContextLength = EnvironmentInt("SERVEGATE_BENCH_CONTEXT", 2048),
        FlashAttention = FlashAttentionFromEnvironment(),
        KvLayout = KvLayoutFromEnvironment(),
        SuffixRecompute = Enum.Parse<SuffixRecomputeMode>(Environment.GetEnvironmentVariable("SERVEGATE_SUFFIX_RECOMPUTE") ?? "Auto", ignoreCase: true),
    }, NullLogger.Instance);
    var random = new Random(2);
    LlamaToken[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];
    await GenerateAsync(scheduler, [model.Bos, .. Random(31)], 2); // warm-up
    var rows = new List<object>();
    for (var r = 0; r < reps; r++)
    {
        LlamaToken[] shared = [model.Bos, .. Random(prefix - 1)];
        LlamaToken[] prompt = [.. shared, .. Random(suffix)];
        // 17 tokens each: the time to the first, then the decode time per token at this depth (cold KV vs copied KV).
        var cold = await GenerateAsync(scheduler, prompt, 17);
        var repeat = await GenerateAsync(scheduler, prompt, 17);
        var newSuffix = await GenerateAsync(scheduler, [.. shared, .. Random(suffix)], 17);
        rows.Add(new
        {
            cold_ttft_ms = cold.TimeToFirstTokenMs,
            repeat_ttft_ms = repeat.TimeToFirstTokenMs,
            repeat_cached = repeat.CachedTokens,
            new_suffix_ttft_ms = newSuffix.TimeToFirstTokenMs,
            new_suffix_cached = newSuffix.CachedTokens,
            repeat_ratio = repeat.TimeToFirstTokenMs / cold.TimeToFirstTokenMs,
            new_suffix_ratio = newSuffix.TimeToFirstTokenMs / cold.TimeToFirstTokenMs,
            cold_decode_ms_per_token = (cold.DurationMs - cold.TimeToFirstTokenMs) / 16,
            repeat_decode_ms_per_token = (repeat.DurationMs - repeat.TimeToFirstTokenMs) / 16,
            new_suffix_decode_ms_per_token = (newSuffix.DurationMs - newSuffix.TimeToFirstTokenMs) / 16,
        });
    }

    Console.WriteLine(JsonSerializer.Serialize(new { model = Path.GetFileName(path), prefix, suffix, tile_costs = scheduler.TileCosts, recomputed_tokens = scheduler.Counters.RecomputedTokens, runs = rows }, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

static int EnvironmentInt(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) ? value : fallback;

// SERVEGATE_FLASH_ATTENTION=on|off|auto compares the kernels without a rebuild.
// SERVEGATE_BENCH_KV_LAYOUT=Shared measures the shared (unified) KV layout instead of the per-sequence default.
static KvCacheLayout KvLayoutFromEnvironment() =>
    Enum.TryParse<KvCacheLayout>(Environment.GetEnvironmentVariable("SERVEGATE_BENCH_KV_LAYOUT"), ignoreCase: true, out var layout) ? layout : KvCacheLayout.PerSequence;

static FlashAttentionMode FlashAttentionFromEnvironment() =>
    Enum.TryParse<FlashAttentionMode>(Environment.GetEnvironmentVariable("SERVEGATE_FLASH_ATTENTION"), ignoreCase: true, out var mode) ? mode : FlashAttentionMode.Auto;

// A closed loop through the scheduler alone (no HTTP): where the time of a concurrent run goes, steps and decode
// time against wall time.
static async Task<int> ConcurrentAsync(string path, int concurrency, int requests, int promptTokens, int outputTokens)
{
    using var model = LlamaModel.Load(path);
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions { Parallel = concurrency, ContextLength = 2048, KvLayout = KvLayoutFromEnvironment(), CacheSlots = EnvironmentInt("SERVEGATE_BENCH_CACHE_SLOTS", 0), HostCacheMiB = EnvironmentInt("SERVEGATE_BENCH_HOST_CACHE_MIB", new SchedulerOptions().HostCacheMiB), FlashAttention = FlashAttentionFromEnvironment() }, NullLogger.Instance);
    var random = new Random(3);
    var prompts = Enumerable.Range(0, requests).Select(_ => (LlamaToken[])[model.Bos, .. Enumerable.Range(1, promptTokens - 1).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))]).ToArray();
    await GenerateAsync(scheduler, prompts[0][..16], 4);
    var (steps, decode) = (scheduler.Counters.Steps, scheduler.Counters.DecodeSeconds);
    // SERVEGATE_BENCH_STAGGER_MS=N: each client waits 0..N ms before its next request, as arrivals over HTTP do.
    var stagger = EnvironmentInt("SERVEGATE_BENCH_STAGGER_MS", 0);
    var wall = Stopwatch.StartNew();
    var compute = 0.0;
    var ttfts = new List<double>();
    await ClosedLoopAsync(concurrency, requests, async i =>
    {
        if (stagger > 0)
        {
            await Task.Delay(Random.Shared.Next(stagger + 1)); // a client's turnaround over HTTP
        }

        var result = await GenerateAsync(scheduler, prompts[i], outputTokens);
        lock (prompts)
        {
            compute += result.ComputeSeconds;
            ttfts.Add(result.TimeToFirstTokenMs);
        }
    });
    var seconds = wall.Elapsed.TotalSeconds;
    ttfts.Sort();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        concurrency,
        requests,
        wall_s = seconds,
        output_tokens_per_second = requests * outputTokens / seconds,
        ttft_p50_ms = ttfts[ttfts.Count / 2],
        steps = scheduler.Counters.Steps - steps,
        decode_s = scheduler.Counters.DecodeSeconds - decode,
        decode_share = (scheduler.Counters.DecodeSeconds - decode) / seconds,
        attributed_compute_s = compute,
        host_saves = scheduler.Counters.HostSaves,
        host_mib = scheduler.Counters.HostBytes / (1024.0 * 1024),
        host_copy_s = scheduler.Counters.HostCopySeconds,
    }, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

// The shared-prefix burst of docs/benchmarks.md through the scheduler alone: `requests` prompts of `prompt` tokens
// that share all but their last `unique` tokens arrive `concurrency` at a time on a cold cache. Reports the p99 time
// to first token, the total time, the decode steps and their time (SERVEGATE_BENCH_KV_LAYOUT picks the layout).
static async Task<int> BurstAsync(string path, int requests, int concurrency, int promptTokens, int unique, int outputTokens)
{
    using var model = LlamaModel.Load(path);
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions
    {
        Parallel = concurrency,
        ContextLength = 2048,
        KvLayout = KvLayoutFromEnvironment(),
        FlashAttention = FlashAttentionFromEnvironment(),
    }, NullLogger.Instance);
    var random = new Random(5);
    LlamaToken[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];
    LlamaToken[] shared = [model.Bos, .. Random(promptTokens - unique - 1)];
    var prompts = Enumerable.Range(0, requests).Select(_ => (LlamaToken[])[.. shared, .. Random(unique)]).ToArray();
    var (steps, decode) = (scheduler.Counters.Steps, scheduler.Counters.DecodeSeconds);
    var ttfts = new List<double>();
    var wall = Stopwatch.StartNew();
    await ClosedLoopAsync(concurrency, requests, async i =>
    {
        var sent = wall.Elapsed.TotalMilliseconds;
        var result = await GenerateAsync(scheduler, prompts[i], outputTokens);
        lock (ttfts)
        {
            ttfts.Add(result.TimeToFirstTokenMs);
            Console.Error.WriteLine($"request {i,2}: sent {sent,7:F0} ms, cached {result.CachedTokens,4}, ttft {result.TimeToFirstTokenMs,7:F0} ms, done {wall.Elapsed.TotalMilliseconds,7:F0} ms");
        }
    });
    var seconds = wall.Elapsed.TotalSeconds;
    ttfts.Sort();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        layout = KvLayoutFromEnvironment().ToString(),
        requests,
        wall_s = seconds,
        ttft_p50_ms = ttfts[ttfts.Count / 2],
        ttft_p99_ms = ttfts[^1],
        steps = scheduler.Counters.Steps - steps,
        decode_s = scheduler.Counters.DecodeSeconds - decode,
    }));
    return 0;
}

// Chunked prefill: while `streams` sequences generate, a `long`-token prompt arrives. Per PrefillChunkTokens setting:
// the running streams' largest gap between two tokens while the long prompt is prefilled (what a user watching a
// stream sees), their median gap before it arrived, and the long prompt's own time to first token (what chunking
// costs it). Without chunking (a chunk as large as the prompt) one step carries the whole prompt.
static async Task<int> ChunkedAsync(string path, int longPrompt, int streams, int[] chunkSizes)
{
    using var model = LlamaModel.Load(path);
    var random = new Random(4);
    LlamaToken[] Random(int n) => [model.Bos, .. Enumerable.Range(1, n - 1).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];
    var rows = new List<object>();
    foreach (var chunk in chunkSizes)
    {
        await using var scheduler = new InferenceScheduler(model, new SchedulerOptions
        {
            Parallel = streams + 1,
            ContextLength = longPrompt + 512,
            PrefillChunkTokens = chunk,
            FlashAttention = FlashAttentionFromEnvironment(),
        }, NullLogger.Instance);
        await GenerateAsync(scheduler, Random(16), 2);

        var gaps = new List<(double At, double Gap)>();
        var clock = Stopwatch.StartNew();
        var running = Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
        {
            var request = new GenerationRequest { RequestId = "stream", Prompt = Random(32), MaxTokens = 400, Sampling = new SamplingSettings { Temperature = 0 }, IgnoreEos = true };
            if (!scheduler.TrySubmit(request, CancellationToken.None, out var handle))
            {
                throw new InvalidOperationException("queue full");
            }

            var last = -1.0;
            await foreach (var e in handle.Events.ReadAllAsync())
            {
                var now = clock.Elapsed.TotalMilliseconds;
                if (e is TextDelta && last >= 0)
                {
                    lock (gaps)
                    {
                        gaps.Add((now, now - last));
                    }
                }

                last = now;
            }
        })).ToArray();

        await Task.Delay(1500); // the streams are decoding
        var longStart = clock.Elapsed.TotalMilliseconds;
        var result = await GenerateAsync(scheduler, Random(longPrompt), 1);
        var longEnd = clock.Elapsed.TotalMilliseconds;
        await Task.WhenAll(running);

        double[] before, during;
        lock (gaps)
        {
            before = [.. gaps.Where(g => g.At < longStart).Select(g => g.Gap).Order()];
            during = [.. gaps.Where(g => g.At >= longStart && g.At - g.Gap <= longEnd).Select(g => g.Gap).Order()];
        }

        rows.Add(new
        {
            prefill_chunk_tokens = chunk,
            itl_p50_before_ms = before.Length > 0 ? before[before.Length / 2] : 0,
            itl_max_during_long_prefill_ms = during.Length > 0 ? during[^1] : 0,
            itl_p50_during_long_prefill_ms = during.Length > 0 ? during[during.Length / 2] : 0,
            long_prompt_ttft_ms = result.TimeToFirstTokenMs,
        });
    }

    Console.WriteLine(JsonSerializer.Serialize(new { model = Path.GetFileName(path), long_prompt_tokens = longPrompt, streams, runs = rows }, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

// `concurrency` clients, each sending request i (0 to requests - 1, in order overall) as soon as its last one ended.
static Task ClosedLoopAsync(int concurrency, int requests, Func<int, Task> send)
{
    var next = -1;
    return Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < requests)
        {
            await send(i);
        }
    }));
}

// Constrained against unconstrained decoding at temperature 1 on one model: the same prompts, seeds and max_tokens,
// runs alternated so drift hits both. The rate is generated tokens per second after the first token (the prompt's
// prefill excluded); a grammar that completes early ends its request early, which the rate allows for.
static async Task<int> ConstrainedAsync(string path, int requests, int outputTokens, int concurrency)
{
    const string schema = """
        {"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"qty":{"type":"integer"},"tags":{"type":"array","items":{"enum":["new","used","rare"]}}},"required":["name","qty","tags"]}}},"required":["items"]}
        """;
    using var schemaDocument = JsonDocument.Parse(schema);
    var grammar = ServeGate.Worker.StructuredOutput.JsonSchemaGrammar.TryConvert(schemaDocument.RootElement, "schema", out _)!;
    using var model = LlamaModel.Load(path);
    await using var scheduler = new InferenceScheduler(model, new SchedulerOptions { Parallel = concurrency, ContextLength = 2048 }, NullLogger.Instance);
    var random = new Random(5);
    var prompts = Enumerable.Range(0, requests).Select(_ => (LlamaToken[])[model.Bos, .. Enumerable.Range(1, 31).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))]).ToArray();
    await GenerateAsync(scheduler, prompts[0][..16], 4);
    var totals = new Dictionary<string, (int Tokens, double Seconds, double Wall)> { ["unconstrained"] = default, ["constrained"] = default };
    for (var round = 0; round < 2; round++)
    {
        foreach (var name in round == 0 ? new[] { "unconstrained", "constrained" } : ["constrained", "unconstrained"])
        {
            var wall = Stopwatch.StartNew();
            var (tokens, seconds) = (0, 0.0);
            await ClosedLoopAsync(concurrency, requests, async i =>
            {
                var sampling = new SamplingSettings { Temperature = 1f, Seed = (uint)i, Grammar = name == "constrained" ? grammar : null };
                var result = await GenerateWithAsync(scheduler, prompts[i], outputTokens, sampling);
                lock (prompts)
                {
                    tokens += result.CompletionTokens - 1;
                    seconds += (result.DurationMs - result.TimeToFirstTokenMs) / 1000.0;
                }
            });
            var t = totals[name];
            totals[name] = (t.Tokens + tokens, t.Seconds + seconds, t.Wall + wall.Elapsed.TotalSeconds);
        }
    }

    double Rate(string name) => totals[name].Tokens / totals[name].Seconds;
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        model = Path.GetFileName(path),
        requests_per_run = requests,
        max_tokens = outputTokens,
        concurrency,
        unconstrained = new { tokens = totals["unconstrained"].Tokens, tokens_per_second_per_sequence = Rate("unconstrained"), wall_s = totals["unconstrained"].Wall },
        constrained = new { tokens = totals["constrained"].Tokens, tokens_per_second_per_sequence = Rate("constrained"), wall_s = totals["constrained"].Wall },
        ratio = Rate("constrained") / Rate("unconstrained"),
    }, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

static Task<GenerationResult> GenerateAsync(InferenceScheduler scheduler, LlamaToken[] prompt, int maxTokens) =>
    GenerateWithAsync(scheduler, prompt, maxTokens, new SamplingSettings { Temperature = 0 });

static async Task<GenerationResult> GenerateWithAsync(InferenceScheduler scheduler, LlamaToken[] prompt, int maxTokens, SamplingSettings sampling)
{
    var request = new GenerationRequest { RequestId = "bench", Prompt = prompt, MaxTokens = maxTokens, Sampling = sampling, IgnoreEos = true };
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

// The machine's memory copy bandwidth: decode reads every weight once per step, so bytes of weights x tokens/s
// against this is how close single-stream decode comes to the memory-bandwidth ceiling.
static int Bandwidth(int mib)
{
    var size = mib * 1024L * 1024L;
    var source = GC.AllocateUninitializedArray<byte>((int)size);
    var destination = GC.AllocateUninitializedArray<byte>((int)size);
    Random.Shared.NextBytes(source);
    source.AsSpan().CopyTo(destination);
    var best = 0.0;
    var rates = new List<double>();
    for (var r = 0; r < 10; r++)
    {
        var sw = Stopwatch.StartNew();
        source.AsSpan().CopyTo(destination);
        var gbs = size / sw.Elapsed.TotalSeconds / 1e9;
        rates.Add(gbs);
        best = Math.Max(best, gbs);
    }

    // A copy reads and writes each byte: report bytes read per second (what decode needs), and read+write traffic.
    Console.WriteLine(JsonSerializer.Serialize(new { buffer_mib = mib, copy_read_gb_per_s_best = best, copy_read_gb_per_s_mean = rates.Average(), copy_traffic_gb_per_s_best = 2 * best }, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}

static double StdDev(List<double> values)
{
    var mean = values.Average();
    return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Count - 1));
}

// Copying one sequence's KV cells to another stream of a per-sequence cache, as the scheduler does when a lane's
// history goes to a cache slot or a cached prefix to a lane: llama.cpp's cross-stream llama_memory_seq_cp (the whole
// stream, applied at the next decode) against LlamaContext.CopySequenceCells (the cells the sequence holds, through a
// host buffer). Each time is a copy plus the one-token decode after it, less that decode alone (median of reps).
static int KvCopy(string path, int context, int[] lengths, int reps)
{
    using var model = LlamaModel.Load(path);
    var random = new Random(6);
    var rows = new List<object>();
    foreach (var length in lengths)
    {
        using var ctx = LlamaContext.Create(model, new LlamaContextOptions { ContextLength = (uint)(context * 3), MaxSequences = 3, UnifiedKvCache = false });
        using var batch = new LlamaBatch(Math.Max(length, 512));
        var source = new LlamaSeqId(0);
        var target = new LlamaSeqId(1);
        var scratch = new LlamaSeqId(2);
        LlamaToken[] tokens = [model.Bos, .. Enumerable.Range(1, length - 1).Select(_ => new LlamaToken(random.Next(100, model.VocabSize)))];
        batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            batch.Add(tokens[i], i, source, wantLogits: i == tokens.Length - 1);
        }

        Check(ctx.Decode(batch));

        double DecodeOne(LlamaSeqId seq)
        {
            batch.Clear();
            batch.Add(tokens[1], length, seq, wantLogits: true);
            var clock = Stopwatch.StartNew();
            Check(ctx.Decode(batch));
            return clock.Elapsed.TotalMilliseconds;
        }

        double Median(Func<double> measure) => Enumerable.Range(0, reps).Select(_ => measure()).Order().ElementAt(reps / 2);

        // The baseline: the same one-token decode on a stream that holds the same cells, with nothing to copy.
        ctx.CopySequenceCells(source, scratch);
        var baseline = Median(() =>
        {
            var ms = DecodeOne(scratch);
            ctx.RemoveSequence(scratch, length, -1);
            return ms;
        });
        var whole = Median(() =>
        {
            ctx.RemoveSequence(target);
            var clock = Stopwatch.StartNew();
            ctx.CopySequence(source, target);
            var copy = clock.Elapsed.TotalMilliseconds;
            return copy + DecodeOne(target) - baseline;
        });
        ulong bytes = 0;
        var cells = Median(() =>
        {
            ctx.RemoveSequence(target);
            var clock = Stopwatch.StartNew();
            bytes = ctx.CopySequenceCells(source, target);
            var copy = clock.Elapsed.TotalMilliseconds;
            return copy + DecodeOne(target) - baseline;
        });
        rows.Add(new { context, tokens = length, whole_stream_ms = whole, cells_ms = cells, cells_mb = bytes / 1e6, decode_one_ms = baseline });
    }

    Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
    return 0;

    static void Check(int status)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"llama_decode returned {status}");
        }
    }
}

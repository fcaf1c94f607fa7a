using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Scheduling;
using Xunit.Abstractions;

namespace ServeGate.Worker.Tests;

/// <summary>
/// Embeddings in the scheduler (their own steps, on a second context) and n choices of one prompt (prefilled once),
/// against real llama.cpp on the tiny model.
/// </summary>
public sealed class EmbeddingSchedulerTests(TinyModelFixture models, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private InferenceScheduler NewScheduler() => new(
        models.Base,
        new SchedulerOptions { Parallel = 8, ContextLength = 1024, MaxQueue = 16, SuffixRecompute = SuffixRecomputeMode.Off },
        NullLogger.Instance);

    private LlamaToken[] Tokens(string text) => models.Base.Tokenize(text, addSpecial: true, parseSpecial: false);

    private static async Task<EmbeddingResult> EmbedAsync(InferenceScheduler scheduler, params LlamaToken[][] inputs)
    {
        Assert.True(scheduler.TrySubmitEmbedding(new EmbeddingRequest { Inputs = inputs }, CancellationToken.None, out var result));
        var done = await result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(done.Error);
        return done;
    }

    [Fact]
    public async Task Embed_SameInputTwice_SameUnitVector()
    {
        await using var scheduler = NewScheduler();
        var input = Tokens("The quick brown fox jumps over the lazy dog.");

        var first = await EmbedAsync(scheduler, input);
        var second = await EmbedAsync(scheduler, input);

        var vector = Assert.Single(first.Vectors);
        Assert.Equal(models.Base.EmbeddingLength, vector.Length);
        Assert.Equal(vector, Assert.Single(second.Vectors));
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(x => (double)x * x)), 5);
        Assert.Equal(input.Length, first.PromptTokens);
        Assert.True(first.ComputeSeconds > 0);
    }

    [Fact]
    public async Task Embed_AloneOrInABatch_SameVectorWithin1e4()
    {
        await using var scheduler = NewScheduler();
        var input = Tokens("Embeddings must not depend on their neighbours.");
        var alone = Assert.Single((await EmbedAsync(scheduler, input)).Vectors);

        var batch = await EmbedAsync(scheduler, Tokens("A much longer neighbour that shares the step with the input under test, tokens and all."), input, Tokens("Short."));

        Assert.Equal(3, batch.Vectors.Count);
        var together = batch.Vectors[1];
        Assert.All(Enumerable.Range(0, alone.Length), i => Assert.Equal(alone[i], together[i], 1e-4f));
        Assert.NotEqual(batch.Vectors[0], batch.Vectors[2]); // different inputs, different vectors
        Assert.Equal(1, scheduler.Counters.EmbeddingSteps - 1); // the three inputs went in one step
    }

    [Fact]
    public async Task Embed_BesideGeneration_BothComplete()
    {
        await using var scheduler = NewScheduler();
        var request = new GenerationRequest
        {
            RequestId = "g",
            Prompt = Tokens("Once upon a time"),
            MaxTokens = 24,
            Sampling = new SamplingSettings { Temperature = 0 },
            IgnoreEos = true,
        };
        Assert.True(scheduler.TrySubmit(request, CancellationToken.None, out var handle));

        var embedded = await EmbedAsync(scheduler, Tokens("beside a running stream"));
        var generated = await handle.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Single(embedded.Vectors);
        Assert.Equal(24, generated.CompletionTokens);
        Assert.Equal(FinishReason.Length, generated.FinishReason);
    }

    /// <summary>
    /// n choices are n sequences of one prompt submitted together: the first prefills it, the others wait and share its
    /// cells, so n = 4 costs far less than 4 prompts. Prints the prompt-phase times (docs/openai-compatibility.md).
    /// </summary>
    [Fact]
    public async Task NChoices_OnePrompt_PrefilledOnce()
    {
        await using var scheduler = NewScheduler();
        await scheduler.Started;
        var random = new Random(42);
        LlamaToken[] Prompt() => [models.Base.Bos, .. Enumerable.Range(0, 511).Select(_ => new LlamaToken(random.Next(100, models.Base.VocabSize - 100)))];

        async Task<(double Ms, GenerationResult[] Results)> RunAsync(int n)
        {
            var prompt = Prompt();
            var stopwatch = Stopwatch.StartNew();
            var handles = Enumerable.Range(0, n).Select(i =>
            {
                Assert.True(scheduler.TrySubmit(new GenerationRequest
                {
                    RequestId = $"n{i}",
                    Prompt = prompt,
                    MaxTokens = 1,
                    Sampling = new SamplingSettings { Seed = (uint)i },
                    IgnoreEos = true,
                }, CancellationToken.None, out var handle));
                return handle.Completion;
            }).ToList();
            var results = await Task.WhenAll(handles).WaitAsync(TimeSpan.FromSeconds(120));
            return (stopwatch.Elapsed.TotalMilliseconds, results);
        }

        await RunAsync(1); // warm
        var one = await RunAsync(1);
        var four = await RunAsync(4);

        output.WriteLine($"512-token prompt, max_tokens 1: n=1 {one.Ms:F0} ms, n=4 {four.Ms:F0} ms ({four.Ms / one.Ms:F2}x)");
        Assert.Equal(0, four.Results.Min(r => r.CachedTokens));
        Assert.Equal(3, four.Results.Count(r => r.CachedTokens == 511)); // all but the last token, whose logits are new
        // The time ratio is reported, not asserted: on this tiny model a prompt computes in tens of milliseconds, so the
        // cell copies and step overheads of three more lanes weigh as much as the prompt (1.6x-7.5x seen across runs);
        // the cached tokens above are what show the prompt was computed once.
    }
}

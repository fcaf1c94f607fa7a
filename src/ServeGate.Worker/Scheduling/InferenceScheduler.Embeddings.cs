using System.Threading.Channels;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Scheduling;

/// <summary>
/// Embeddings, computed by the scheduler thread like everything else on this model. llama.cpp outputs every token of
/// every sequence once embeddings are on (logits too), so a step mixing them with generation would project every
/// prompt token of the step onto the vocabulary: embeddings run in their own steps instead, between generation steps,
/// on a second context of the same weights (created on first use, sharing the thread pool) whose pooled, unified KV
/// cache is cleared after every step. Generation's cached prefixes stay untouched. Many inputs, of any requests, share
/// one step, each as its own sequence (docs/architecture.md, "Embeddings").
/// </summary>
public sealed partial class InferenceScheduler
{
    /// <summary>Inputs (sequences) per embedding step.</summary>
    internal const int EmbeddingSequences = 64;

    private readonly Channel<EmbeddingJob> _embeddingQueue = Channel.CreateBounded<EmbeddingJob>(
        new BoundedChannelOptions(64) { SingleReader = true, AllowSynchronousContinuations = true });

    private readonly List<EmbeddingJob> _embeddingJobs = [];
    private LlamaContext? _embeddingContext;
    private LlamaBatch? _embeddingBatch;
    private LlamaPoolingType _embeddingPooling;

    /// <summary>The most tokens one embedding input may have: it is pooled within one llama.cpp micro-batch.</summary>
    public int EmbeddingTokenLimit => Math.Min(_sequenceLimit, _options.BatchSize);

    /// <summary>
    /// Queues inputs to embed. False when the embedding queue is full (answer 429) or the scheduler has stopped.
    /// Cancelling <paramref name="cancellationToken"/> drops the inputs not yet computed.
    /// </summary>
    public bool TrySubmitEmbedding(EmbeddingRequest request, CancellationToken cancellationToken, out Task<EmbeddingResult> result)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs.Any(i => i.Length == 0 || i.Length > EmbeddingTokenLimit))
        {
            throw new ArgumentException($"Every input must have 1 to {EmbeddingTokenLimit} tokens.", nameof(request));
        }

        var job = new EmbeddingJob(request, cancellationToken, _time.GetTimestamp());
        result = job.Completion.Task;
        return !_stopping.IsCancellationRequested && _embeddingQueue.Writer.TryWrite(job);
    }

    private bool HasEmbeddingWork => _embeddingJobs.Count > 0 || _embeddingQueue.Reader.Count > 0;

    /// <summary>
    /// One embedding step: as many queued inputs as fit in a batch (in arrival order, up to
    /// <see cref="EmbeddingSequences"/>), each its own sequence, pooled by llama.cpp; the vectors are normalized, the
    /// cells freed, and the step's time split across requests by their tokens in it.
    /// </summary>
    private void EmbeddingStep()
    {
        try
        {
            RunEmbeddingStep();
        }
        catch (LlamaException ex)
        {
            // The embedding context (its creation or a decode) failed: its requests fail, generation goes on; the
            // context is made anew for the next request.
            foreach (var job in _embeddingJobs.ToList())
            {
                FinishEmbedding(job, $"The embeddings could not be computed: {ex.Message}");
            }

            _embeddingContext?.Dispose();
            _embeddingContext = null;
        }
    }

    private void RunEmbeddingStep()
    {
        while (_embeddingJobs.Count < EmbeddingSequences && _embeddingQueue.Reader.TryRead(out var queued))
        {
            _embeddingJobs.Add(queued);
        }

        for (var i = _embeddingJobs.Count - 1; i >= 0; i--)
        {
            if (_embeddingJobs[i].Cancellation.IsCancellationRequested)
            {
                FinishEmbedding(_embeddingJobs[i], "The request was cancelled.");
            }
        }

        if (_embeddingJobs.Count == 0)
        {
            return;
        }

        var context = EmbeddingContext(_embeddingJobs[0].Request.Pooling);
        var batch = _embeddingBatch!;
        batch.Clear();
        var members = new List<(EmbeddingJob Job, int Input)>();
        foreach (var job in _embeddingJobs)
        {
            job.StepTokens = 0;
            if (job.Request.Pooling != _embeddingPooling)
            {
                continue; // another model setting: a later step, on a context that pools its way
            }

            while (job.Next < job.Request.Inputs.Count && members.Count < EmbeddingSequences
                && batch.Count + job.Request.Inputs[job.Next].Length <= batch.Capacity)
            {
                var input = job.Request.Inputs[job.Next];
                var sequence = new LlamaSeqId(members.Count);
                for (var k = 0; k < input.Length; k++)
                {
                    batch.Add(input[k], k, sequence, wantLogits: true);
                }

                members.Add((job, job.Next++));
                job.StepTokens += input.Length;
            }
        }

        var started = _time.GetTimestamp();
        foreach (var (job, _) in members)
        {
            job.FirstStepAt = job.FirstStepAt > 0 ? job.FirstStepAt : started;
        }

        try
        {
            var status = context.Decode(batch);
            if (status != 0)
            {
                // The cache holds exactly one batch and is empty before each: only an abort gets here.
                foreach (var job in members.Select(m => m.Job).Distinct().ToList())
                {
                    FinishEmbedding(job, $"llama_decode returned {status} for an embedding batch.");
                }

                return;
            }

            for (var s = 0; s < members.Count; s++)
            {
                var (job, input) = members[s];
                job.Vectors[input] = Normalize(context.GetSequenceEmbedding(new LlamaSeqId(s)));
            }
        }
        finally
        {
            context.ClearMemory(); // the inputs' cells are not reused: the next step starts on an empty cache
        }

        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        _counters.EmbeddingSteps++;
        _counters.EmbeddingSeconds += seconds;
        _counters.EmbeddingInputs += members.Count;
        _counters.EmbeddingTokens += batch.Count;
        foreach (var job in _embeddingJobs.ToList())
        {
            job.ComputeSeconds += seconds * job.StepTokens / batch.Count;
            if (job.Next == job.Request.Inputs.Count)
            {
                FinishEmbedding(job, null);
            }
        }
    }

    /// <summary>The embedding context, created on first use (or again for another pooling) beside the generation context.</summary>
    private LlamaContext EmbeddingContext(LlamaPoolingType pooling)
    {
        if (_embeddingContext is not null && _embeddingPooling == pooling)
        {
            return _embeddingContext;
        }

        _embeddingContext?.Dispose();
        _embeddingContext = null;
        var tokens = (uint)EmbeddingTokenLimit;
        _embeddingContext = LlamaContext.Create(_model, new LlamaContextOptions
        {
            ContextLength = tokens,
            BatchSize = tokens,
            MicroBatchSize = tokens, // a sequence split over micro-batches would be pooled over its last part only
            MaxSequences = EmbeddingSequences,
            Threads = _options.Threads,
            UnifiedKvCache = true,
            FlashAttention = _options.ResolveFlashAttention(),
            Pooling = pooling,
            ShareThreadsWith = _context,
        });
        _embeddingPooling = pooling;
        _embeddingBatch ??= new LlamaBatch((int)tokens);
        return _embeddingContext;
    }

    /// <summary>The vector scaled to unit length (as OpenAI's are), so a dot product is the cosine similarity.</summary>
    private static float[] Normalize(ReadOnlySpan<float> vector)
    {
        var sum = 0.0;
        foreach (var x in vector)
        {
            sum += (double)x * x;
        }

        var scale = sum > 0 ? 1.0 / Math.Sqrt(sum) : 0.0;
        var result = new float[vector.Length];
        for (var i = 0; i < vector.Length; i++)
        {
            result[i] = (float)(vector[i] * scale);
        }

        return result;
    }

    private void FinishEmbedding(EmbeddingJob job, string? error)
    {
        _embeddingJobs.Remove(job);
        var now = _time.GetTimestamp();
        job.Completion.TrySetResult(new EmbeddingResult
        {
            Vectors = error is null ? job.Vectors : [],
            PromptTokens = job.Request.Inputs.Sum(i => i.Length),
            QueueMs = job.FirstStepAt > 0 ? (job.FirstStepAt - job.EnqueuedAt) * 1000.0 / _time.TimestampFrequency : 0,
            DurationMs = (now - job.EnqueuedAt) * 1000.0 / _time.TimestampFrequency,
            ComputeSeconds = job.ComputeSeconds,
            Error = error,
        });
    }

    /// <summary>At the loop's end: every embedding request not finished fails with <paramref name="reason"/>.</summary>
    private void FailEmbeddings(string reason)
    {
        _embeddingQueue.Writer.TryComplete();
        while (_embeddingQueue.Reader.TryRead(out var queued))
        {
            _embeddingJobs.Add(queued);
        }

        foreach (var job in _embeddingJobs.ToList())
        {
            FinishEmbedding(job, reason);
        }
    }

    private void DisposeEmbeddings()
    {
        _embeddingContext?.Dispose(); // before the generation context, whose thread pool it computes on
        _embeddingContext = null;
        _embeddingBatch?.Dispose();
    }

    private sealed class EmbeddingJob(EmbeddingRequest request, CancellationToken cancellation, long enqueuedAt)
    {
        public EmbeddingRequest Request { get; } = request;

        public CancellationToken Cancellation { get; } = cancellation;

        public long EnqueuedAt { get; } = enqueuedAt;

        public TaskCompletionSource<EmbeddingResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public float[][] Vectors { get; } = new float[request.Inputs.Count][];

        /// <summary>The next input to compute.</summary>
        public int Next { get; set; }

        public int StepTokens { get; set; }

        public long FirstStepAt { get; set; }

        public double ComputeSeconds { get; set; }
    }
}

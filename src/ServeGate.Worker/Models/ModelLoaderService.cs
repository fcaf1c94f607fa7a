using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServeGate.LlamaCpp;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Models;

/// <summary>Provides the embedded demo models when no model is configured (generated on first run, then cached).</summary>
public interface IDemoModelSource
{
    Task<IReadOnlyList<ModelEntry>> EnsureAsync(IProgress<string> progress, CancellationToken cancellationToken);
}

/// <summary>
/// Loads llama.cpp when the host starts (a missing library or GPU stops the start with a clear message), then loads the
/// models in the background so /health answers at once and requests get 503 until their model is ready.
/// </summary>
internal sealed class ModelLoaderService(
    ModelRegistry registry,
    IOptions<WorkerOptions> options,
    IOptions<LlamaBackendOptions> backendOptions,
    IServiceProvider services,
    ILoggerFactory loggerFactory,
    TimeProvider time) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("ServeGate.Worker.Models");
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var info = LlamaBackend.Initialize(backendOptions.Value, loggerFactory.CreateLogger("ServeGate.LlamaCpp"));
        WorkerLog.BackendReady(_logger, info.Backend.ToString().ToLowerInvariant(), info.CpuVariant ?? "n/a", info.Threads);
        _loading = Task.Run(() => LoadAllAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            var entries = options.Value.Models;
            if (entries.Count == 0)
            {
                var demo = services.GetService(typeof(IDemoModelSource)) as IDemoModelSource
                    ?? throw new InvalidOperationException("No models are configured and no demo model source is registered.");
                entries = [.. await demo.EnsureAsync(new Progress<string>(m => WorkerLog.DemoProgress(_logger, m)), cancellationToken).ConfigureAwait(false)];
            }

            var served = entries.Select(e => new ServedModel(e.ResolveId(), e.Path, e.Kind) { ConfiguredPooling = e.Pooling }).ToList();
            foreach (var model in served)
            {
                registry.Add(model);
            }

            registry.MarkConfigured();
            foreach (var model in served)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Load(model, cancellationToken);
            }

            WorkerLog.AllReady(_logger, served.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            WorkerLog.LoadingFailed(_logger, ex);
            registry.MarkConfigured();
        }
    }

    private void Load(ServedModel served, CancellationToken cancellationToken)
    {
        try
        {
            var backend = backendOptions.Value;
            var model = LlamaModel.Load(served.Path, new LlamaModelLoadOptions
            {
                GpuLayers = backend.GpuLayers,
                RepackWeights = !options.Value.Worker.BatchInvariant,
            });
            var schedulerOptions = options.Value.Worker;
            if (schedulerOptions.Threads == 0)
            {
                schedulerOptions.Threads = backend.ResolveThreads();
            }

            var scheduler = new InferenceScheduler(model, schedulerOptions, loggerFactory.CreateLogger<InferenceScheduler>(), time);

            // Ready once warmed up (and its attention tiles measured): a request sent earlier would wait for that.
            try
            {
                scheduler.Started.Wait(cancellationToken);
                if (scheduler.Failure is { } failure)
                {
                    throw new LlamaException($"The scheduler failed while warming up: {failure.Message}", failure);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or LlamaException)
            {
                scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();
                model.Dispose();
                throw;
            }

            served.MarkReady(model, scheduler, time.GetUtcNow());
            var kvBytes = (double)scheduler.KvCacheCells * model.LayerCount * 2 * (model.EmbeddingLength / Math.Max(1, model.HeadCount)) * model.KvHeadCount * 2;
            WorkerLog.ModelLoaded(_logger, served.Id, model.ParameterCount, model.LayerCount, model.EmbeddingLength, model.HeadCount, model.KvHeadCount,
                model.FileTypeName, model.SizeBytes / 1048576.0, kvBytes / 1048576.0, scheduler.SequenceLimit, model.TrainedContextLength);
            WorkerLog.ModelServing(_logger, served.Id, served.Kind.ToString().ToLowerInvariant(), scheduler.Parallel, scheduler.KvCacheCells);
        }
        catch (Exception ex) when (ex is LlamaException or IOException or InvalidOperationException)
        {
            served.MarkFailed(ex.Message);
            WorkerLog.ModelFailed(_logger, served.Id, ex.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var model in registry.All)
        {
            if (model.Scheduler is { } scheduler)
            {
                await scheduler.DisposeAsync().ConfigureAwait(false);
            }

            model.Model?.Dispose();
        }

        _stopping.Dispose();
    }
}

internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 2106, Level = LogLevel.Information,
        Message = "Model {ModelId} loaded: {Parameters} parameters ({Layers} layers, {Embedding} wide, {Heads}/{KvHeads} heads), {FileType}, {SizeMiB:F1} MiB weights + {KvMiB:F1} MiB KV cache, context {ContextLength} per request (trained {TrainedContext})")]
    public static partial void ModelLoaded(ILogger logger, string modelId, ulong parameters, int layers, int embedding, int heads, int kvHeads, string fileType, double sizeMiB, double kvMiB, int contextLength, int trainedContext);

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "llama.cpp ready: backend {Backend}, CPU variant {CpuVariant}, {Threads} threads")]
    public static partial void BackendReady(ILogger logger, string backend, string cpuVariant, int threads);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Demo models: {Message}")]
    public static partial void DemoProgress(ILogger logger, string message);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Serving {ModelId} ({Kind}): {Parallel} parallel sequences, {KvCells} KV cells")]
    public static partial void ModelServing(ILogger logger, string modelId, string kind, int parallel, int kvCells);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Model {ModelId} failed to load: {Error}")]
    public static partial void ModelFailed(ILogger logger, string modelId, string error);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "All {Count} models are ready")]
    public static partial void AllReady(ILogger logger, int count);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "Loading models failed")]
    public static partial void LoadingFailed(ILogger logger, Exception exception);
}

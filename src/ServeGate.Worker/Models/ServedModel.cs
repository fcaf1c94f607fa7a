using ServeGate.LlamaCpp;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Models;

/// <summary><c>base</c> models complete text; <c>instruct</c> models also chat (their GGUF carries a chat template).</summary>
public enum ModelKind
{
    Base,
    Instruct,
}

/// <summary>Where a served model is in its life.</summary>
public enum ModelStatus
{
    Loading,
    Ready,
    Failed,
}

/// <summary>A model this worker serves: its file, its kind, and once loaded its weights and scheduler.</summary>
public sealed class ServedModel
{
    private ModelStatus _status = ModelStatus.Loading;
    private string? _error;

    public ServedModel(string id, string path, ModelKind? configuredKind)
    {
        Id = id;
        Path = path;
        ConfiguredKind = configuredKind;
    }

    public string Id { get; }

    public string Path { get; }

    public ModelKind? ConfiguredKind { get; }

    /// <summary>The configured pooling for embeddings, or null to take the GGUF's.</summary>
    public LlamaPoolingType? ConfiguredPooling { get; init; }

    /// <summary>
    /// How embeddings pool token vectors: as configured, else the GGUF's <c>&lt;arch&gt;.pooling_type</c> when it is one
    /// llama.cpp pools with (mean, CLS, last), else mean.
    /// </summary>
    public LlamaPoolingType Pooling => ConfiguredPooling ?? GgufPooling(Model) ?? LlamaPoolingType.Mean;

    private static LlamaPoolingType? GgufPooling(LlamaModel? model) =>
        model?.GetMetadata("general.architecture") is { } arch
        && int.TryParse(model.GetMetadata($"{arch}.pooling_type"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
        && Enum.IsDefined((LlamaPoolingType)value)
            ? (LlamaPoolingType)value
            : null;

    /// <summary>The configured kind, else instruct when the GGUF has a chat template (known once loaded).</summary>
    public ModelKind Kind => ConfiguredKind ?? (Model?.ChatTemplate is null ? ModelKind.Base : ModelKind.Instruct);

    /// <summary>Failed also when the scheduler of a ready model has stopped after an error (<see cref="InferenceScheduler.Failure"/>).</summary>
    public ModelStatus Status => _status == ModelStatus.Ready && Scheduler?.Failure is not null ? ModelStatus.Failed : _status;

    /// <summary>Why the model failed, as a predicate (<c>"failed to load: …"</c>), or null.</summary>
    public string? Error => _error is { } error ? $"failed to load: {error}"
        : Scheduler?.Failure is { } failure ? $"stopped serving after an internal error in its scheduler: {failure.Message}" : null;

    public LlamaModel? Model { get; private set; }

    public InferenceScheduler? Scheduler { get; private set; }

    public DateTimeOffset Created { get; private set; }

    internal void MarkReady(LlamaModel model, InferenceScheduler scheduler, DateTimeOffset created)
    {
        Model = model;
        Scheduler = scheduler;
        Created = created;
        _status = ModelStatus.Ready;
    }

    internal void MarkFailed(string error)
    {
        _error = error;
        _status = ModelStatus.Failed;
    }
}

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
    public ServedModel(string id, string path, ModelKind? configuredKind)
    {
        Id = id;
        Path = path;
        ConfiguredKind = configuredKind;
    }

    public string Id { get; }

    public string Path { get; }

    public ModelKind? ConfiguredKind { get; }

    /// <summary>The configured kind, else instruct when the GGUF has a chat template (known once loaded).</summary>
    public ModelKind Kind => ConfiguredKind ?? (Model?.ChatTemplate is null ? ModelKind.Base : ModelKind.Instruct);

    public ModelStatus Status { get; private set; } = ModelStatus.Loading;

    public string? Error { get; private set; }

    public LlamaModel? Model { get; private set; }

    public InferenceScheduler? Scheduler { get; private set; }

    public DateTimeOffset Created { get; private set; }

    internal void MarkReady(LlamaModel model, InferenceScheduler scheduler, DateTimeOffset created)
    {
        Model = model;
        Scheduler = scheduler;
        Created = created;
        Status = ModelStatus.Ready;
    }

    internal void MarkFailed(string error)
    {
        Error = error;
        Status = ModelStatus.Failed;
    }
}

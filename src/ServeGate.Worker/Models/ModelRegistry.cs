using System.Collections.Concurrent;

namespace ServeGate.Worker.Models;

/// <summary>The models this worker serves, by id, in configuration order.</summary>
public sealed class ModelRegistry
{
    private readonly ConcurrentDictionary<string, ServedModel> _byId = new(StringComparer.Ordinal);
    private readonly List<ServedModel> _ordered = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<ServedModel> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _ordered];
            }
        }
    }

    /// <summary>True once the model list is known and every model is ready.</summary>
    public bool AllReady => Configured && All.All(m => m.Status == ModelStatus.Ready);

    /// <summary>True once the list of models is known (the demo models may still be generating before that).</summary>
    public bool Configured { get; private set; }

    internal void Add(ServedModel model)
    {
        lock (_gate)
        {
            if (!_byId.TryAdd(model.Id, model))
            {
                throw new InvalidOperationException($"Two models have the id '{model.Id}'; give one an explicit Id.");
            }

            _ordered.Add(model);
        }
    }

    internal void MarkConfigured() => Configured = true;

    public bool TryGet(string id, out ServedModel model) => _byId.TryGetValue(id, out model!);
}

using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker;

/// <summary>What the worker serves. Bound from the <c>ServeGate</c> section (and ./run.sh's switches).</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "ServeGate";

    /// <summary>GGUF files to serve. Empty: the embedded demo models (a base and an instruct model generated on first run).</summary>
    public List<ModelEntry> Models { get; set; } = [];

    /// <summary>Batching and KV-cache settings, shared by every model.</summary>
    public SchedulerOptions Worker { get; set; } = new();

    /// <summary>Largest request body accepted (413 beyond).</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Problems with these settings, all at once.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var error in Worker.Validate())
        {
            yield return error;
        }

        for (var i = 0; i < Models.Count; i++)
        {
            var m = Models[i];
            if (string.IsNullOrWhiteSpace(m.Path))
            {
                yield return $"Models[{i}] has no Path.";
            }
            else if (!File.Exists(m.Path))
            {
                yield return $"Models[{i}]: the file '{m.Path}' does not exist.";
            }
        }

        var duplicate = Models.GroupBy(m => m.ResolveId(), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            yield return $"More than one model has the id '{duplicate.Key}': set Id on one of them.";
        }

        if (MaxRequestBodyBytes < 1024)
        {
            yield return "MaxRequestBodyBytes must be at least 1024.";
        }
    }
}

/// <summary>One model to serve.</summary>
public sealed class ModelEntry
{
    /// <summary>The id clients name; default: the file name without <c>.gguf</c>.</summary>
    public string? Id { get; set; }

    public string Path { get; set; } = string.Empty;

    /// <summary><c>base</c> or <c>instruct</c>; default: instruct when the GGUF has a chat template.</summary>
    public ModelKind? Kind { get; set; }

    /// <summary>How <c>/v1/embeddings</c> pools token vectors (<c>Mean</c>, <c>Last</c>, <c>Cls</c>); default: the GGUF's <c>&lt;arch&gt;.pooling_type</c>, else mean.</summary>
    public LlamaCpp.LlamaPoolingType? Pooling { get; set; }

    public string ResolveId() =>
        !string.IsNullOrWhiteSpace(Id) ? Id : System.IO.Path.GetFileNameWithoutExtension(Path);
}

using System.Text.Json;

namespace ServeGate.LoadTests.Workload;

/// <summary>
/// Prompts read from a JSON Lines file, one request per line, used in order and cycled:
/// <c>{"prompt": "..."}</c> or <c>{"messages": [...]}</c> (chat endpoint only), each with an optional
/// <c>"max_tokens"</c>; without it the output length comes from the output distribution.
/// </summary>
internal sealed class PromptsFileWorkload : IWorkload
{
    private readonly Entry[] _entries;
    private readonly LengthDistribution _outputTokens;
    private readonly long _seed;

    private PromptsFileWorkload(Entry[] entries, LengthDistribution outputTokens, long seed)
    {
        _entries = entries;
        _outputTokens = outputTokens;
        _seed = seed;
    }

    public int Count => _entries.Length;

    public RequestSpec Get(long index)
    {
        var entry = _entries[index % _entries.Length];
        var maxTokens = entry.MaxTokens ?? _outputTokens.Sample(new Random(SyntheticWorkload.DeriveSeed(_seed, index)));
        return new RequestSpec(index, entry.Prompt, entry.MessagesJson, maxTokens, entry.ApproxTokens);
    }

    /// <summary>Reads and checks the whole file; on failure returns null and every problem found (up to 10).</summary>
    public static PromptsFileWorkload? TryLoad(
        string path, bool chatEndpoint, LengthDistribution outputTokens, long seed, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        errors = problems;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add($"cannot read prompts file '{path}': {ex.Message}");
            return null;
        }

        var entries = new List<Entry>(lines.Length);
        for (var i = 0; i < lines.Length && problems.Count < 10; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var where = $"prompts file '{path}' line {i + 1}";
            try
            {
                using var document = JsonDocument.Parse(lines[i]);
                if (TryReadEntry(document.RootElement, chatEndpoint, out var entry, out var problem))
                {
                    entries.Add(entry);
                }
                else
                {
                    problems.Add($"{where}: {problem}");
                }
            }
            catch (JsonException ex)
            {
                problems.Add($"{where}: not valid JSON ({ex.Message})");
            }
        }

        if (problems.Count == 0 && entries.Count == 0)
        {
            problems.Add($"prompts file '{path}' has no prompts");
        }

        return problems.Count == 0 ? new PromptsFileWorkload([.. entries], outputTokens, seed) : null;
    }

    private static bool TryReadEntry(JsonElement root, bool chatEndpoint, out Entry entry, out string problem)
    {
        entry = default;
        problem = "";
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = "expected an object with \"prompt\" or \"messages\"";
            return false;
        }

        int? maxTokens = null;
        if (root.TryGetProperty("max_tokens", out var max))
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var value) || value < 1)
            {
                problem = "\"max_tokens\" must be a positive whole number";
                return false;
            }

            maxTokens = value;
        }

        if (root.TryGetProperty("prompt", out var prompt))
        {
            if (prompt.ValueKind != JsonValueKind.String)
            {
                problem = "\"prompt\" must be a string";
                return false;
            }

            var text = prompt.GetString()!;
            entry = new Entry(text, null, maxTokens, CountWords(text));
            return true;
        }

        if (root.TryGetProperty("messages", out var messages))
        {
            if (!chatEndpoint)
            {
                problem = "\"messages\" needs --endpoint chat";
                return false;
            }

            if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                problem = "\"messages\" must be a non-empty array";
                return false;
            }

            var words = 0;
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object &&
                    message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    words += CountWords(content.GetString()!);
                }
            }

            entry = new Entry(null, messages.GetRawText(), maxTokens, words);
            return true;
        }

        problem = "expected \"prompt\" or \"messages\"";
        return false;
    }

    internal static int CountWords(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private readonly record struct Entry(string? Prompt, string? MessagesJson, int? MaxTokens, int ApproxTokens);
}

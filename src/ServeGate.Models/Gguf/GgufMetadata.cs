using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ServeGate.Models.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order. Order is kept because it is part of the bytes:
/// writing back what was read gives the same file.
/// </summary>
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    private readonly OrderedDictionary<string, GgufValue> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public IEnumerable<string> Keys => _entries.Keys;

    public IEnumerable<GgufValue> Values => _entries.Values;

    /// <summary>Gets a value, or sets one: replacing keeps the key's position, a new key goes last.</summary>
    public GgufValue this[string key]
    {
        get => _entries.TryGetValue(key, out var value)
            ? value
            : throw new KeyNotFoundException($"GGUF metadata has no key '{key}'.");
        set
        {
            ValidateKey(key);
            ArgumentNullException.ThrowIfNull(value);
            _entries[key] = value;
        }
    }

    /// <summary>Adds a new key; throws if it exists, because GGUF forbids duplicate keys.</summary>
    public void Add(string key, GgufValue value)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_entries.TryAdd(key, value))
        {
            throw new ArgumentException($"GGUF metadata already has key '{key}'.", nameof(key));
        }
    }

    public bool Remove(string key) => _entries.Remove(key);

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _entries.TryGetValue(key, out value);

    public string GetString(string key) => this[key].AsString();

    public uint GetUInt32(string key) => this[key].AsUInt32();

    public float GetFloat32(string key) => this[key].AsFloat32();

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
    }
}

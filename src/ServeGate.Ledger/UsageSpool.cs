using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ServeGate.Ledger;

/// <summary>
/// Usage records on disk until the store has them: JSON lines appended to numbered segment files and synced to disk
/// (one fsync per group of records); a segment is deleted once it is sealed and every record in it is stored. What is
/// left at start (a crash, or a store that was down) is replayed into the idempotent store.
/// </summary>
internal sealed class UsageSpool : IDisposable
{
    private const string Prefix = "usage-spool-";
    private const string Extension = ".jsonl";

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Segment> _segments = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private FileStream? _current;
    private long _currentId;

    public UsageSpool(string directory, long segmentBytes = 4 * 1024 * 1024)
    {
        Directory.CreateDirectory(directory);
        _directory = directory;
        _segmentBytes = segmentBytes;
        Leftovers = [.. Directory.EnumerateFiles(directory, Prefix + "*" + Extension).Select(p => (Path: p, Id: IdOf(p))).Where(s => s.Id >= 0).OrderBy(s => s.Id).Select(s => s.Path)];
        _currentId = Leftovers.Count == 0 ? 1 : IdOf(Leftovers[^1]) + 1;
    }

    /// <summary>Segments found at start, oldest first: records of an earlier run the store may not have.</summary>
    public IReadOnlyList<string> Leftovers { get; }

    private static long IdOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        return long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;
    }

    /// <summary>The records of a segment; a line cut short by a crash (the last one) is skipped.</summary>
    public static List<UsageRecord> Read(string path)
    {
        var records = new List<UsageRecord>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, LedgerJsonContext.Default.UsageRecord) is { } record)
                {
                    records.Add(record);
                }
            }
            catch (JsonException)
            {
                // torn write at the end of a crashed run: that record's response never ended
            }
        }

        return records;
    }

    /// <summary>Appends records and syncs them to disk; returns the segment they went to (for <see cref="Stored"/>).</summary>
    public long Append(IReadOnlyList<UsageRecord> records)
    {
        _buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_buffer))
        {
            foreach (var record in records)
            {
                JsonSerializer.Serialize(json, record, LedgerJsonContext.Default.UsageRecord);
                json.Flush();
                json.Reset();
                _buffer.Write("\n"u8);
            }
        }

        lock (_gate)
        {
            if (_current is not null && _current.Length >= _segmentBytes)
            {
                _segments[_currentId].Sealed = true;
                _current.Dispose();
                _current = null;
                DeleteIfDone(_currentId);
                _currentId++;
            }

            if (_current is null)
            {
                _current = new FileStream(PathOf(_currentId), FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
                _segments[_currentId] = new Segment();
            }

            _segments[_currentId].Written += records.Count;
        }

        // Only the spool loop writes: the file itself needs no lock, only the segment table does.
        _current.Write(_buffer.WrittenSpan);
        _current.Flush(flushToDisk: true);
        return _currentId;
    }

    /// <summary>The store committed <paramref name="count"/> records of <paramref name="segment"/>.</summary>
    public void Stored(long segment, int count)
    {
        lock (_gate)
        {
            if (_segments.TryGetValue(segment, out var s))
            {
                s.Stored += count;
                DeleteIfDone(segment);
            }
        }
    }

    /// <summary>At shutdown: seals the current segment (deleted when all its records are stored).</summary>
    public void Seal()
    {
        lock (_gate)
        {
            if (_current is not null)
            {
                _current.Dispose();
                _current = null;
                _segments[_currentId].Sealed = true;
                DeleteIfDone(_currentId);
                _currentId++;
            }
        }
    }

    /// <summary>Records written to the spool and not stored yet.</summary>
    public long Unstored
    {
        get
        {
            lock (_gate)
            {
                return _segments.Values.Sum(s => (long)(s.Written - s.Stored));
            }
        }
    }

    private void DeleteIfDone(long id)
    {
        if (_segments.TryGetValue(id, out var s) && s.Sealed && s.Stored >= s.Written)
        {
            File.Delete(PathOf(id));
            _segments.Remove(id);
        }
    }

    private string PathOf(long id) => Path.Combine(_directory, Prefix + id.ToString("D8", CultureInfo.InvariantCulture) + Extension);

    public void Dispose()
    {
        lock (_gate)
        {
            _current?.Dispose();
            _current = null;
        }
    }

    private sealed class Segment
    {
        public int Written;
        public int Stored;
        public bool Sealed;
    }
}

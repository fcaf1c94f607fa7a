using Microsoft.Extensions.Logging;

namespace ServeGate.Ledger;

/// <summary>
/// The ledger and the API keys are data, kept in the data folder; releases before it kept them in the cache folder.
/// At start, files found only there are moved (with their SQLite -wal/-shm files) once, and the move is logged.
/// </summary>
public static partial class LedgerDataFolder
{
    private static readonly string[] Files = ["usage.db", "keys.db", "limits-spool.jsonl"];

    /// <summary>Moves the ledger files of <paramref name="legacyDirectory"/> into <paramref name="dataDirectory"/> where absent there; returns what moved.</summary>
    public static IReadOnlyList<string> MoveFromLegacy(string legacyDirectory, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var moved = new List<string>();
        if (Path.GetFullPath(legacyDirectory) == Path.GetFullPath(dataDirectory) || !Directory.Exists(legacyDirectory))
        {
            return moved;
        }

        foreach (var name in Files)
        {
            var from = Path.Combine(legacyDirectory, name);
            var to = Path.Combine(dataDirectory, name);
            if (!File.Exists(from) || File.Exists(to))
            {
                continue;
            }

            Directory.CreateDirectory(dataDirectory);
            // The -wal holds committed transactions not yet checkpointed: it moves first, the main file last, so an
            // interrupted move leaves the database whole in the old folder (it is moved again at the next start).
            foreach (var suffix in new[] { "-wal", "-shm", string.Empty })
            {
                if (File.Exists(from + suffix))
                {
                    File.Move(from + suffix, to + suffix, overwrite: true);
                }
            }

            moved.Add(name);
            Log.Moved(logger, name, legacyDirectory, dataDirectory);
        }

        return moved;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = MeteringLogEvents.DataMoved, Level = LogLevel.Warning, Message = "Moved {File} from the cache folder {From} to the data folder {To} (the ledger and keys are data, not cache).")]
        public static partial void Moved(ILogger logger, string file, string from, string to);
    }
}

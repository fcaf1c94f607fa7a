using System.Collections.Concurrent;
using System.Globalization;
using ServeGate.Models.Gguf;

namespace ServeGate.Models;

/// <summary>
/// Generated models on disk, made once and reused: the first caller generates (and quantizes), later callers get the
/// same path back at the cost of reading a header.
/// </summary>
/// <remarks>
/// A file appears at its final name only complete: it is written under a hidden temporary name in the same
/// directory, flushed to disk, checked, then renamed over the final name (rename is atomic within a file system).
/// Callers in one process wait for one generation; separate processes may each generate, and since output is
/// deterministic the last rename replaces a file with identical bytes. A cached file is reused only if its
/// <c>servegate.fingerprint</c> and <c>general.file_type</c> match what would be generated now, so a changed spec or
/// generator replaces stale files instead of serving them.
/// </remarks>
public static class ModelCache
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    /// <summary>
    /// The file name for a model: <c>servegate-demo-{base|instruct}-{spec}-{type}.gguf</c>, with <c>-seed{N}</c>
    /// before the extension unless the seed is <see cref="LlamaModelGenerator.DefaultSeed"/>.
    /// </summary>
    public static string GetFileName(LlamaModelSpec spec, GgufFileType fileType, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var variant = spec.Variant == ModelVariant.Instruct ? "instruct" : "base";
        var seedPart = seed == LlamaModelGenerator.DefaultSeed ? "" : $"-seed{seed.ToString(CultureInfo.InvariantCulture)}";
        return $"servegate-demo-{variant}-{spec.Name}-{fileType.ToFileNamePart()}{seedPart}.gguf";
    }

    /// <summary>Returns the path of the cached model, generating it first if it is missing or stale.</summary>
    /// <param name="spec">Shape, tokenizer and variant.</param>
    /// <param name="fileType">F32/F16 are generated directly; other types need <paramref name="quantizer"/>.</param>
    /// <param name="seed">Weight seed; see <see cref="LlamaModelGenerator.DefaultSeed"/>.</param>
    /// <param name="cacheDirectory">Created if missing; e.g. <see cref="ServeGateCachePaths.ModelDirectory"/>.</param>
    /// <param name="quantizer">Produces quantized types from the generated F16 (the llama.cpp binding's implementation).</param>
    /// <param name="progress">0 to 1 while generating; not reported when the cached file is reused.</param>
    /// <param name="cancellationToken">Cancels waiting and generating; a cancelled generation leaves nothing behind.</param>
    public static async Task<string> EnsureAsync(
        LlamaModelSpec spec,
        GgufFileType fileType,
        ulong seed,
        string cacheDirectory,
        IGgufQuantizer? quantizer = null,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        spec.EnsureValid();

        var directory = Path.GetFullPath(cacheDirectory);
        var fileName = GetFileName(spec, fileType, seed);
        var path = Path.Combine(directory, fileName);
        var fingerprint = LlamaModelGenerator.ComputeFingerprint(spec, fileType, seed);
        if (IsUsable(path, fingerprint, fileType))
        {
            return path;
        }

        var gate = Locks.GetOrAdd(path, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have finished while this one waited.
            if (IsUsable(path, fingerprint, fileType))
            {
                return path;
            }

            Directory.CreateDirectory(directory);
            var temporary = Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.tmp");
            try
            {
                await LlamaModelGenerator.WriteFileAsync(spec, fileType, seed, temporary, quantizer, progress, cancellationToken)
                    .ConfigureAwait(false);
                FlushToDisk(temporary);
                if (!IsUsable(temporary, fingerprint, fileType))
                {
                    throw new InvalidDataException(
                        $"The generated model '{fileName}' does not read back as a {fileType} GGUF with fingerprint {fingerprint}.");
                }

                cancellationToken.ThrowIfCancellationRequested();
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            return path;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Whether <paramref name="path"/> is a complete GGUF generated for this fingerprint and file type.</summary>
    internal static bool IsUsable(string path, string fingerprint, GgufFileType fileType)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            // Opening checks the header and that every tensor's data lies within the file.
            using var reader = GgufReader.Open(path);
            return reader.Metadata.TryGetValue(GgufKeys.ServeGateFingerprint, out var stored)
                && stored.Type == GgufValueType.String
                && stored.AsString() == fingerprint
                && reader.Metadata.TryGetValue(GgufKeys.FileType, out var storedType)
                && storedType.Type == GgufValueType.UInt32
                && storedType.AsUInt32() == (uint)fileType;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// fsync before the rename: otherwise a crash soon after could leave the final name pointing at data that never
    /// reached the disk.
    /// </summary>
    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
        stream.Flush(flushToDisk: true);
    }
}

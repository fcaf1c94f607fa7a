namespace ServeGate.Worker.Scheduling;

/// <summary>
/// What prefilling a short chunk on top of a cached prefix costs, measured on this machine and model when the scheduler
/// starts, and whether recomputing a few of the cached tokens with it is faster.
/// </summary>
/// <remarks>
/// ggml's CPU flash attention takes its tiled kernel only for chunks of at least <see cref="TileRows"/> query rows per
/// stream (<c>GGML_FA_TILE_Q</c> in the pinned source). Below that, each query row walks the cached prefix on its own, so
/// a short chunk's attention grows with the prefix's depth several times as fast as a tile's: a chat turn's 40 new
/// tokens on a 1,000-token history cost as much as 64 would. Whether the extra rows pay for themselves differs by CPU
/// (on the AMD VM of session 5 the short chunk won at 42 rows, on the Intel VM of session 8 the tile did), so the
/// scheduler measures both shapes at two depths and interpolates: <see cref="ShortMs"/> and <see cref="ShortDeepMs"/>
/// are <see cref="ShortRows"/> rows at depth 0 and at <see cref="Depth"/>, <see cref="TileMs"/> and
/// <see cref="TileDeepMs"/> a tile's <see cref="TileRows"/> rows at the same depths.
/// </remarks>
public sealed record AttentionTileCosts(int Depth, double ShortMs, double ShortDeepMs, double TileMs, double TileDeepMs)
{
    /// <summary>Query rows per stream from which ggml's CPU flash attention runs its tiled kernel.</summary>
    public const int TileRows = 64;

    /// <summary>The short chunk measured at start, about a chat turn's new tokens.</summary>
    public const int ShortRows = 40;

    /// <summary>Recompute only when the tile is predicted this much faster, so that measurement noise alone never decides.</summary>
    public const double Margin = 0.05;

    /// <summary>Predicted time of <paramref name="rows"/> (under a tile) on <paramref name="depth"/> cached tokens.</summary>
    public double PredictShortMs(int rows, int depth) =>
        rows * (ShortMs + Math.Max(0, ShortDeepMs - ShortMs) * depth / Depth) / ShortRows;

    /// <summary>Predicted time of a tile's rows on <paramref name="depth"/> cached tokens.</summary>
    public double PredictTileMs(int depth) => TileMs + Math.Max(0, TileDeepMs - TileMs) * depth / Depth;

    /// <summary>
    /// How many of <paramref name="cached"/> reusable tokens to recompute with a <paramref name="suffix"/>-token chunk so
    /// that it fills <paramref name="rows"/> (a tile, plus one row when the step also carries other sequences' next
    /// tokens, which llama.cpp puts in a micro-batch of their own with one row of this chunk): 0 when the chunk already
    /// fills it, when it is a single token (decoded by its own kernel), when fewer than <paramref name="minReuse"/>
    /// cached tokens would be left, or when the tile is not predicted faster.
    /// </summary>
    public int TokensToRecompute(int suffix, int cached, int rows, int minReuse)
    {
        var recompute = rows - suffix;
        if (suffix < 2 || recompute <= 0 || cached - recompute < minReuse)
        {
            return 0;
        }

        return PredictTileMs(cached - recompute) <= (1 - Margin) * PredictShortMs(suffix, cached) ? recompute : 0;
    }

    /// <summary>Steps of one measuring round: a short chunk and a tile, each at depth 0 and on the prefix.</summary>
    public const int RowsPerRound = 2 * (ShortRows + TileRows);

    /// <summary>
    /// How deep a prefix to measure on and how many rounds, so that the prefix's prefill and the rounds take at most
    /// <paramref name="budgetMs"/> at <paramref name="msPerToken"/>: 1,024 tokens (or <paramref name="maxDepth"/>)
    /// and three rounds where that fits; else a shallower prefix down to 256 tokens, then one round, then down to
    /// two tiles' depth; null when even that does not fit (a large model on a slow CPU is not measured, and does not
    /// recompute).
    /// </summary>
    public static (int Depth, int Rounds)? PlanMeasurement(double msPerToken, int maxDepth, double budgetMs = 8000)
    {
        var depth = Math.Min(1024, maxDepth);
        var rounds = 3;
        while ((depth + rounds * RowsPerRound) * msPerToken > budgetMs)
        {
            if (depth > 256)
            {
                depth /= 2;
            }
            else if (rounds > 1)
            {
                rounds--;
            }
            else if (depth / 2 >= 2 * TileRows)
            {
                depth /= 2;
            }
            else
            {
                return null;
            }
        }

        return depth >= 2 * TileRows ? (depth, rounds) : null;
    }

    /// <summary>The shallowest prefix on which a <see cref="ShortRows"/>-row chunk is recomputed to a tile, or null if on none up to <paramref name="limit"/>.</summary>
    public int? ShallowestRecomputedDepth(int limit)
    {
        for (var depth = TileRows; depth <= limit; depth += 8)
        {
            if (TokensToRecompute(ShortRows, depth, TileRows, 1) > 0)
            {
                return depth;
            }
        }

        return null;
    }
}

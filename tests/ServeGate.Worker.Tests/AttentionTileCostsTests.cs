using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Tests;

/// <summary>When a short prompt suffix recomputes cached tokens to fill an attention tile, from measured costs.</summary>
public sealed class AttentionTileCostsTests
{
    // SmolLM2-135M Q4_K_M on the 2-core Intel VM of session 8, as the scheduler measured them at start (ms): 40 rows
    // at depth 0 and 1,024, a 64-row tile at the same depths.
    private static readonly AttentionTileCosts Intel = new(1024, 118.3, 290.7, 165.7, 308.2);

    [Fact]
    public void TokensToRecompute_SuffixNearATileOnADeepPrefix_FillsTheTile()
    {
        // 56 rows untiled on 1,000 cached tokens: ~402 ms predicted; 64 rows on 992: ~303 ms.
        Assert.Equal(8, Intel.TokensToRecompute(suffix: 56, cached: 1000, rows: 64, minReuse: 8));
    }

    [Fact]
    public void TokensToRecompute_WhenOthersGenerate_FillsTheTileAndTheirMicroBatchRow()
    {
        Assert.Equal(9, Intel.TokensToRecompute(suffix: 56, cached: 1000, rows: 65, minReuse: 8));
    }

    [Fact]
    public void TokensToRecompute_WithinTheMargin_ReusesEverything()
    {
        // 43 rows: ~308 ms against ~302 for the tile, less than the 5% margin.
        Assert.Equal(0, Intel.TokensToRecompute(suffix: 43, cached: 1000, rows: 64, minReuse: 8));
    }

    [Fact]
    public void TokensToRecompute_ShallowPrefix_ReusesEverything()
    {
        Assert.Equal(0, Intel.TokensToRecompute(suffix: 56, cached: 64, rows: 64, minReuse: 8));
    }

    [Theory]
    [InlineData(1, 1000)] // an identical prompt: its last token alone, which llama.cpp decodes with its own kernel
    [InlineData(64, 1000)] // already a tile
    [InlineData(200, 1000)]
    [InlineData(56, 15)] // recomputing 8 of 15 would leave fewer than minReuse cached
    public void TokensToRecompute_NothingToGain_ReusesEverything(int suffix, int cached)
    {
        var tileAlwaysFaster = new AttentionTileCosts(1024, 100, 1000, 10, 20);
        Assert.Equal(0, tileAlwaysFaster.TokensToRecompute(suffix, cached, rows: 64, minReuse: 8));
    }

    [Fact]
    public void TokensToRecompute_TileSlowerAtEveryDepth_NeverRecomputes()
    {
        var shortChunksCheap = new AttentionTileCosts(1024, 60, 90, 120, 200);
        Assert.Equal(0, shortChunksCheap.TokensToRecompute(suffix: 63, cached: 4000, rows: 64, minReuse: 8));
        Assert.Null(shortChunksCheap.ShallowestRecomputedDepth(4000));
    }

    [Fact]
    public void Predictions_FasterAtDepthThanAtZero_TreatedAsFlat()
    {
        // Noise can measure the deep shape faster than the shallow one: no negative cost per cached token.
        var noisy = new AttentionTileCosts(1024, 120, 110, 170, 160);
        Assert.Equal(120 * 20 / 40.0, noisy.PredictShortMs(20, 2048), 6);
        Assert.Equal(170, noisy.PredictTileMs(2048), 6);
    }

    [Theory]
    [InlineData(0.15, 959, 959, 3)] // the tiny test model: its whole context, three rounds
    [InlineData(2.9, 4031, 1024, 3)] // SmolLM2-135M on the 2-core VM: ~4.8 s
    [InlineData(5, 4031, 512, 3)]
    [InlineData(10, 4031, 256, 2)]
    [InlineData(20, 4031, 128, 1)]
    public void PlanMeasurement_WithinTheBudget(double msPerToken, int maxDepth, int depth, int rounds)
    {
        var plan = AttentionTileCosts.PlanMeasurement(msPerToken, maxDepth);
        Assert.Equal((depth, rounds), plan);
        Assert.True((plan!.Value.Depth + plan.Value.Rounds * AttentionTileCosts.RowsPerRound) * msPerToken <= 8000);
    }

    [Theory]
    [InlineData(30, 4031)] // a model this slow is not measured: 128 tokens and one round would take ~10 s
    [InlineData(0.1, 100)] // a context too short for a prefix of two tiles
    public void PlanMeasurement_NothingFits_NotMeasured(double msPerToken, int maxDepth)
    {
        Assert.Null(AttentionTileCosts.PlanMeasurement(msPerToken, maxDepth));
    }

    [Fact]
    public void ShallowestRecomputedDepth_Intel_WhereTheUntiledWalkOutgrowsTheExtraRows()
    {
        var depth = Intel.ShallowestRecomputedDepth(4096);
        Assert.NotNull(depth);
        Assert.Equal(0, Intel.TokensToRecompute(AttentionTileCosts.ShortRows, depth.Value - 8, 64, 1));
        Assert.Equal(24, Intel.TokensToRecompute(AttentionTileCosts.ShortRows, depth.Value, 64, 1));
    }
}

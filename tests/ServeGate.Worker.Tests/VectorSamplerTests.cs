using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Tests;

public sealed class VectorSamplerTests
{
    [Fact]
    public void Greedy_TakesTheFirstHighestLogit()
    {
        var sampler = new VectorSampler(new SamplingSettings { Temperature = 0 });

        Assert.Equal(2, sampler.Sample([0.5f, 1f, 3f, 3f, -2f]));
    }

    [Fact]
    public void Greedy_BannedHighest_TakesTheNextHighest()
    {
        var sampler = new VectorSampler(new SamplingSettings { Temperature = 0, BannedTokens = [new LlamaToken(2)] });

        Assert.Equal(3, sampler.Sample([0.5f, 1f, 3f, 2.5f, -2f]));
    }

    [Fact]
    public void Temperature_SameSeed_SameDraws_OtherSeed_OtherDraws()
    {
        var logits = Logits(5000, seed: 1);

        int[] Draws(uint seed)
        {
            var sampler = new VectorSampler(new SamplingSettings { Temperature = 1f, Seed = seed });
            return [.. Enumerable.Range(0, 64).Select(_ => sampler.Sample(logits))];
        }

        Assert.Equal(Draws(7), Draws(7));
        Assert.NotEqual(Draws(7), Draws(8));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(2f)]
    public void Temperature_DrawsFollowTheSoftmax(float temperature)
    {
        // Mass in three tokens in different blocks of a vocabulary larger than one summing block, the rest near zero.
        var logits = Enumerable.Repeat(-100f, 5000).ToArray();
        logits[10] = 0f;
        logits[1500] = MathF.Log(2f);
        logits[4999] = MathF.Log(4f);
        var weights = new[] { 1.0, Math.Pow(2, 1 / temperature), Math.Pow(4, 1 / temperature) };
        var expected = weights.Select(w => w / weights.Sum()).ToArray();
        var sampler = new VectorSampler(new SamplingSettings { Temperature = temperature, Seed = 3 });

        const int n = 60_000;
        var counts = new Dictionary<int, int>();
        for (var i = 0; i < n; i++)
        {
            var token = sampler.Sample(logits);
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        Assert.Equal([10, 1500, 4999], counts.Keys.Order());
        Assert.Equal(expected[0], counts[10] / (double)n, 0.01);
        Assert.Equal(expected[1], counts[1500] / (double)n, 0.01);
        Assert.Equal(expected[2], counts[4999] / (double)n, 0.01);
    }

    [Fact]
    public void Temperature_BannedTokensAreNeverDrawn()
    {
        float[] logits = [0f, 5f, 0f, 5f];
        var sampler = new VectorSampler(new SamplingSettings { Temperature = 1f, Seed = 1, BannedTokens = [new LlamaToken(1), new LlamaToken(3)] });

        var draws = Enumerable.Range(0, 2000).Select(_ => sampler.Sample(logits)).ToHashSet();

        Assert.Equal([0, 2], draws.Order());
    }

    [Fact]
    public void Temperature_FullVocabulary_DrawsSpreadLikeTheSoftmax()
    {
        // SmolLM2's vocabulary size with random logits: the drawn tokens' average logit matches the softmax mean.
        var logits = Logits(49_152, seed: 2);
        var max = logits.Max();
        var weights = logits.Select(l => Math.Exp(l - max)).ToArray();
        var expectedMean = weights.Select((w, i) => w * logits[i]).Sum() / weights.Sum();
        var sampler = new VectorSampler(new SamplingSettings { Temperature = 1f, Seed = 5 });

        var mean = Enumerable.Range(0, 20_000).Average(_ => logits[sampler.Sample(logits)]);

        Assert.Equal(expectedMean, mean, 0.05);
    }

    private static float[] Logits(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 8 - 4))];
    }
}

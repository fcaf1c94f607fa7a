using ServeGate.LoadTests.Client;
using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Tests;

public sealed class WorkloadTests
{
    [Theory]
    [InlineData("256", "fixed", "256")]
    [InlineData("uniform:128:512", "uniform", "uniform:128:512")]
    [InlineData("normal:256:64", "normal", "normal:256:64")]
    [InlineData(" fixed:7 ", "fixed", "7")]
    public void TryParse_ValidText_GivesDistribution(string text, string kind, string normalized)
    {
        Assert.True(LengthDistribution.TryParse(text, out var distribution, out _));
        Assert.Equal(kind, distribution!.Kind);
        Assert.Equal(normalized, distribution.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("zipf:1:2")]
    [InlineData("uniform:5")]
    [InlineData("uniform:9:3")]
    [InlineData("normal:0:1")]
    [InlineData("normal:10:-1")]
    public void TryParse_InvalidText_GivesMessage(string text)
    {
        Assert.False(LengthDistribution.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Sample_Uniform_StaysWithinBoundsAndCoversThem()
    {
        LengthDistribution.TryParse("uniform:3:6", out var distribution, out _);
        var random = new Random(1);

        var samples = Enumerable.Range(0, 2000).Select(_ => distribution!.Sample(random)).ToList();

        Assert.Equal([3, 4, 5, 6], samples.Distinct().Order());
    }

    [Fact]
    public void Sample_Normal_MeanCloseAndAtLeastOne()
    {
        LengthDistribution.TryParse("normal:100:20", out var distribution, out _);
        var random = new Random(1);

        var samples = Enumerable.Range(0, 10_000).Select(_ => distribution!.Sample(random)).ToList();

        Assert.Equal(100, samples.Average(), 1.0);
        Assert.True(samples.Min() >= 1);
    }

    [Fact]
    public void Get_SameSeedAndIndex_SameRequest()
    {
        var a = new SyntheticWorkload(Uniform(50, 80), Uniform(10, 20), 0.3, seed: 5);
        var b = new SyntheticWorkload(Uniform(50, 80), Uniform(10, 20), 0.3, seed: 5);

        Assert.Equal(a.Get(17), b.Get(17));
        Assert.NotEqual(a.Get(17).Prompt, a.Get(18).Prompt);
        Assert.NotEqual(a.Get(17).Prompt, new SyntheticWorkload(Uniform(50, 80), Uniform(10, 20), 0.3, seed: 6).Get(17).Prompt);
    }

    [Fact]
    public void Get_SharedPrefixRatio_PromptsShareThatManyLeadingWords()
    {
        var workload = new SyntheticWorkload(LengthDistribution.Fixed(100), LengthDistribution.Fixed(8), 0.5, seed: 3);

        var first = workload.Get(0).Prompt!.Split(' ');
        var second = workload.Get(1).Prompt!.Split(' ');

        Assert.Equal(100, first.Length);
        Assert.Equal(100, workload.Get(0).ApproxPromptTokens);
        Assert.Equal(8, workload.Get(0).MaxTokens);
        Assert.Equal(first[..50], second[..50]);
        Assert.NotEqual(first[50..], second[50..]);
    }

    [Fact]
    public void Get_NoSharedPrefix_PromptsDifferFromTheStart()
    {
        var workload = new SyntheticWorkload(LengthDistribution.Fixed(40), LengthDistribution.Fixed(8), 0, seed: 3);

        Assert.NotEqual(workload.Get(0).Prompt![..40], workload.Get(1).Prompt![..40]);
    }

    [Fact]
    public void TryLoad_PromptsAndMessages_CyclesInOrderWithMaxTokens()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, [
                "{\"prompt\": \"one two three\", \"max_tokens\": 5}",
                "",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi there\"}]}",
            ]);

            var workload = PromptsFileWorkload.TryLoad(path, chatEndpoint: true, LengthDistribution.Fixed(9), seed: 1, out var errors);

            Assert.Empty(errors);
            Assert.Equal(2, workload!.Count);
            Assert.Equal(new RequestSpec(0, "one two three", null, 5, 3), workload.Get(0));
            Assert.Equal(9, workload.Get(1).MaxTokens);
            Assert.Equal(4, workload.Get(1).ApproxPromptTokens);
            Assert.Contains("be brief", workload.Get(1).MessagesJson, StringComparison.Ordinal);
            Assert.Equal("one two three", workload.Get(2).Prompt);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Write_ChatWithMessages_SendsThemAsIs()
    {
        var spec = new RequestSpec(0, null, "[{\"role\":\"user\",\"content\":\"hi\"}]", 4, 1);
        var options = new ClientOptions { BaseUrl = new Uri("http://127.0.0.1:1/v1/"), Model = "m", Stream = false };

        var body = System.Text.Encoding.UTF8.GetString(RequestBody.Write(spec, options));

        Assert.Equal("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4,\"stream\":false}", body);
        Assert.Equal("http://127.0.0.1:1/v1/chat/completions", options.RequestUri.ToString());
    }

    private static LengthDistribution Uniform(int min, int max)
    {
        LengthDistribution.TryParse($"uniform:{min}:{max}", out var distribution, out _);
        return distribution!;
    }
}

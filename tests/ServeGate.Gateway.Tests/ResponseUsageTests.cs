using System.Text;
using ServeGate.Gateway.Metering;

namespace ServeGate.Gateway.Tests;

/// <summary>The per-token reader of streamed chunks: content counted, finish reason and usage read, anything else skipped.</summary>
public sealed class ResponseUsageTests
{
    private static bool Read(ResponseUsage usage, string json, long now = 1) => usage.ReadChunk(Encoding.UTF8.GetBytes(json), now);

    [Fact]
    public void ReadChunk_CompletionAndChatContent_CountedWithFirstTimestamp()
    {
        var usage = new ResponseUsage();

        Assert.False(Read(usage, """{"id":"c","choices":[{"index":0,"text":"Hel","logprobs":{"tokens":["Hel"],"top_logprobs":[{"a":-1.0}]},"finish_reason":null}]}""", now: 10));
        Assert.False(Read(usage, """{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""", now: 20));
        Assert.False(Read(usage, """{"id":"c","choices":[{"index":0,"delta":{"content":"lo \u00e9"},"logprobs":null}]}""", now: 30));
        Assert.False(Read(usage, """{"id":"c","choices":[{"index":0,"text":"","finish_reason":"length"}]}""", now: 40));

        Assert.Equal(2, usage.ContentChunks);
        Assert.Equal(10, usage.FirstContentTimestamp);
        Assert.Equal("length", usage.FinishReason);
        Assert.Null(usage.Usage);
    }

    [Fact]
    public void ReadChunk_FinalUsageChunk_TrueWithExactUsage()
    {
        var usage = new ResponseUsage();

        var final = Read(usage, """{"id":"c","object":"text_completion","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":8},"servegate":{"queue_ms":1.5,"compute_seconds":0.25}}}""");

        Assert.True(final);
        Assert.Equal((12, 5, 8), (usage.Usage!.PromptTokens, usage.Usage.CompletionTokens, usage.Usage.PromptTokensDetails.CachedTokens));
        Assert.Equal(0.25, usage.Usage.Metering!.ComputeSeconds);
    }

    [Fact]
    public void ReadChunk_UsageBesideChoices_ReadButNotTheFinalChunk()
    {
        var usage = new ResponseUsage();

        Assert.False(Read(usage, """{"choices":[{"text":"x"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"""));
        Assert.False(Read(usage, """{"choices":[{"text":"y"}],"usage":null}"""));

        Assert.Equal(3, usage.Usage!.PromptTokens);
        Assert.Equal(2, usage.ContentChunks);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"choices":[{"text":"cut""")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void ReadChunk_NotAChunk_IgnoredWithoutThrowing(string payload)
    {
        var usage = new ResponseUsage();

        Assert.False(Read(usage, payload));
        Assert.Null(usage.Usage);
    }
}

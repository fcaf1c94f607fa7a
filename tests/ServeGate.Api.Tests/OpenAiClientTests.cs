using System.ClientModel;
using OpenAI.Chat;

namespace ServeGate.Api.Tests;

/// <summary>Chat and models through the official OpenAI .NET client, as an application would call ServeGate.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiClientTests(GatewayFixture gateway)
{
    private static readonly ChatMessage[] Conversation =
    [
        new SystemChatMessage("You are terse."),
        new UserChatMessage("Name three colours."),
    ];

    [Fact]
    public async Task GetModels_ListsBaseAndInstruct()
    {
        var models = (await gateway.OpenAi.GetOpenAIModelClient().GetModelsAsync()).Value;

        Assert.Contains(models, m => m.Id == GatewayFixture.BaseModel);
        Assert.Contains(models, m => m.Id == GatewayFixture.InstructModel);
    }

    [Fact]
    public async Task CompleteChat_Greedy_ReturnsTextUsageAndFinishReason()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);

        var completion = (await client.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 })).Value;

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 10);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(GatewayFixture.InstructModel, completion.Model);
    }

    [Fact]
    public async Task CompleteChatStreaming_Greedy_SameTextAsNonStreamingWithUsage()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };
        var whole = (await client.CompleteChatAsync(Conversation, options)).Value;

        var streamed = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(Conversation, options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.True(updates > 2);
    }

    [Fact]
    public async Task CompleteChat_SameSeed_SameSample()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = new ChatCompletionOptions { Temperature = 1.0f, TopP = 0.95f, Seed = 1234, MaxOutputTokenCount = 20 };

        var first = (await client.CompleteChatAsync(Conversation, options)).Value.Content[0].Text;
        var second = (await client.CompleteChatAsync(Conversation, options)).Value.Content[0].Text;
        var third = (await client.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 1.0f, TopP = 0.95f, Seed = 99, MaxOutputTokenCount = 20 })).Value.Content[0].Text;

        Assert.Equal(first, second);
        Assert.NotEqual(first, third);
    }

    [Fact]
    public async Task CompleteChat_StopSequence_TextEndsBeforeIt()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var free = (await client.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 30 })).Value.Content[0].Text;
        Assert.True(free.Length > 8, $"the model produced too little text to cut: '{free}'");
        var stop = free.Substring(free.Length / 2, 3);
        var expected = free[..free.IndexOf(stop, StringComparison.Ordinal)];

        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 30 };
        options.StopSequences.Add(stop);
        var stopped = (await client.CompleteChatAsync(Conversation, options)).Value;
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync(Conversation, options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(expected, stopped.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task CompleteChat_Logprobs_OnePerTokenWithAlternatives()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 5, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };

        var completion = (await client.CompleteChatAsync(Conversation, options)).Value;

        Assert.Equal(completion.Usage.OutputTokenCount, completion.ContentTokenLogProbabilities.Count);
        foreach (var token in completion.ContentTokenLogProbabilities)
        {
            Assert.True(token.LogProbability <= 0);
            Assert.Equal(3, token.TopLogProbabilities.Count);

            // Greedy: the chosen token is the most likely one.
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 3);
        }
    }

    [Fact]
    public async Task CompleteChat_BaseModel_400PointsToCompletions()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.BaseModel);

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync(Conversation));

        Assert.Equal(400, ex.Status);
        Assert.Contains("/v1/completions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_404()
    {
        var client = gateway.OpenAi.GetChatClient("no-such-model");

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync(Conversation));

        Assert.Equal(404, ex.Status);
        Assert.Contains("model_not_found", ex.Message, StringComparison.Ordinal);
    }
}

using System.Net.Http.Json;
using OpenAI.Chat;

namespace ServeGate.Dashboard.Tests;

/// <summary>Real requests through the gateway: chat through the official OpenAI client, text completion over HTTP.</summary>
internal static class Requests
{
    public static async Task ChatAsync(DashboardGateway gateway, int count, string apiKey = "local")
    {
        var client = gateway.OpenAi(apiKey).GetChatClient(DashboardGateway.InstructModel);
        for (var i = 0; i < count; i++)
        {
            await client.CompleteChatAsync([new UserChatMessage($"Say hello, number {i}.")], new ChatCompletionOptions { MaxOutputTokenCount = 8 });
        }
    }

    public static async Task CompletionAsync(DashboardGateway gateway, string prompt = "The capital of France is")
    {
        using var response = await gateway.Http.PostAsJsonAsync(new Uri("/v1/completions", UriKind.Relative),
            new { model = DashboardGateway.BaseModel, prompt, max_tokens = 8 });
        response.EnsureSuccessStatusCode();
    }
}

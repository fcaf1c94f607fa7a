using System.Text.Json.Serialization;

namespace ServeGate.Core.OpenAi;

/// <summary>The Responses API's usage: input and output tokens, cached input tokens among the input.</summary>
public sealed class ResponsesUsage
{
    public int InputTokens { get; init; }

    public ResponsesInputTokensDetails InputTokensDetails { get; init; } = new();

    public int OutputTokens { get; init; }

    public ResponsesOutputTokensDetails OutputTokensDetails { get; init; } = new();

    public int TotalTokens { get; init; }

    /// <summary>ServeGate's metering of this request (ignored by OpenAI clients), as in chat usage.</summary>
    [JsonPropertyName("servegate")]
    public UsageMetering? Metering { get; init; }

    /// <summary>The same counts in the chat/completions shape, as the gateway's metering reads them.</summary>
    public Usage ToUsage() => new()
    {
        PromptTokens = InputTokens,
        CompletionTokens = OutputTokens,
        TotalTokens = TotalTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = InputTokensDetails.CachedTokens },
        Metering = Metering,
    };

    /// <summary>The Responses shape of chat/completions usage.</summary>
    public static ResponsesUsage From(Usage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        return new ResponsesUsage
        {
            InputTokens = usage.PromptTokens,
            InputTokensDetails = new ResponsesInputTokensDetails { CachedTokens = usage.PromptTokensDetails.CachedTokens },
            OutputTokens = usage.CompletionTokens,
            TotalTokens = usage.TotalTokens,
            Metering = usage.Metering,
        };
    }
}

using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Core.OpenAi;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Models;

namespace ServeGate.Worker.Api;

/// <summary><c>POST /v1/embeddings</c>: validates the inputs, has the model's scheduler embed them, answers as OpenAI does.</summary>
internal static class EmbeddingsApi
{
    /// <summary>OpenAI's limit on inputs per request.</summary>
    public const int MaxInputs = 2048;

    public static async Task HandleAsync(HttpContext http, ModelRegistry registry, WorkerOptions options)
    {
        var (bytes, readError) = await JsonRequestBody.ReadAsync(http, options.MaxRequestBodyBytes).ConfigureAwait(false);
        if (readError is not null)
        {
            await OpenAiApi.WriteErrorAsync(http, readError).ConfigureAwait(false);
            return;
        }

        EmbeddingRequestBody? body;
        try
        {
            body = JsonSerializer.Deserialize(bytes.Span, OpenAiJson.Context.EmbeddingRequestBody);
        }
        catch (JsonException ex)
        {
            var field = JsonRequestBody.FieldOf(ex);
            await OpenAiApi.WriteErrorAsync(http, ApiError.InvalidRequest("The body must be a JSON object with the fields of an embeddings request, each of its type.", field)).ConfigureAwait(false);
            return;
        }

        if (body is null)
        {
            await OpenAiApi.WriteErrorAsync(http, ApiError.InvalidRequest("The request body must be a JSON object.")).ConfigureAwait(false);
            return;
        }

        var error = Validate(registry, body, out var model, out var inputs);
        if (error is not null)
        {
            await OpenAiApi.WriteErrorAsync(http, error).ConfigureAwait(false);
            return;
        }

        var scheduler = model.Scheduler!;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        if (!scheduler.TrySubmitEmbedding(new EmbeddingRequest { Inputs = inputs, Pooling = model.Pooling }, cancel.Token, out var pending))
        {
            http.Response.Headers.RetryAfter = "1";
            await OpenAiApi.WriteErrorAsync(http, scheduler.Stopping || scheduler.Failure is not null
                ? ApiError.Unavailable($"The model '{model.Id}' is not serving.", "model_unavailable")
                : ApiError.Overloaded($"The model '{model.Id}' has too many embedding requests waiting; retry after a second.")).ConfigureAwait(false);
            return;
        }

        if (http.Request.Headers[FinalUsageRegistry.RequestIdHeader] is [{ Length: > 0 } gatewayId])
        {
            http.RequestServices.GetRequiredService<FinalUsageRegistry>().Track(gatewayId, pending.ContinueWith(
                static t => Usage(t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        }

        EmbeddingResult result;
        try
        {
            result = await pending.WaitAsync(options.Worker.QueueTimeout, http.RequestAborted).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await OpenAiApi.WriteErrorAsync(http, ApiError.Unavailable($"The embeddings of '{model.Id}' took longer than {options.Worker.QueueTimeout.TotalSeconds:F0} s; retry later.", "queue_timeout")).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return; // the client left; the scheduler drops what it has not computed
        }

        if (result.Error is not null)
        {
            await OpenAiApi.WriteErrorAsync(http, ApiError.Unavailable(result.Error, "embedding_failed")).ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.BodyWriter);
        Write(json, result, model.Id, body.EncodingFormat == "base64");
        await json.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The request's model and tokenized inputs, or the error to answer with.</summary>
    internal static ApiError? Validate(ModelRegistry registry, EmbeddingRequestBody body, out ServedModel model, out List<LlamaToken[]> inputs)
    {
        inputs = [];
        var error = RequestValidator.ResolveModel(registry, body.Model, out model) ?? RequestFields.CheckEmbeddings(body);
        if (error is not null)
        {
            return error;
        }

        if (body.EncodingFormat is not (null or "float" or "base64"))
        {
            return ApiError.InvalidRequest($"encoding_format must be 'float' or 'base64', not '{body.EncodingFormat}'.", "encoding_format");
        }

        var length = model.Model!.EmbeddingLength;
        if (body.Dimensions is { } dimensions && dimensions != length)
        {
            return ApiError.InvalidRequest(
                $"dimensions is not supported by '{model.Id}': its embeddings have {length} dimensions and cannot be shortened.", "dimensions", "unsupported_parameter");
        }

        error = ParseInputs(model.Model, body.Input, inputs);
        if (error is not null)
        {
            return error;
        }

        var limit = model.Scheduler!.EmbeddingTokenLimit;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length > limit)
            {
                return ApiError.InvalidRequest(
                    $"This model's maximum input length for embeddings is {limit} tokens, but input {i} has {inputs[i].Length} tokens. Please reduce the input's length.",
                    "input", "context_length_exceeded");
            }
        }

        return null;
    }

    private static ApiError? ParseInputs(LlamaModel model, JsonElement input, List<LlamaToken[]> inputs)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return AddText(model, input.GetString()!, "input", inputs);
            case JsonValueKind.Array when input.GetArrayLength() == 0:
                return ApiError.InvalidRequest("input must not be empty.", "input");
            case JsonValueKind.Array when input.GetArrayLength() > MaxInputs:
                return ApiError.InvalidRequest($"input may hold at most {MaxInputs} inputs, not {input.GetArrayLength()}.", "input");
            case JsonValueKind.Array when input[0].ValueKind == JsonValueKind.Number:
                return AddTokens(model, input, "input", inputs);
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in input.EnumerateArray())
                {
                    var param = $"input[{i++}]";
                    var error = item.ValueKind switch
                    {
                        JsonValueKind.String => AddText(model, item.GetString()!, param, inputs),
                        JsonValueKind.Array when item.GetArrayLength() > 0 => AddTokens(model, item, param, inputs),
                        _ => ApiError.InvalidRequest($"{param} must be a non-empty string or a non-empty array of token ids.", param),
                    };
                    if (error is not null)
                    {
                        return error;
                    }
                }

                return null;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return ApiError.InvalidRequest("You must provide an input.", "input", "missing_required_parameter");
            default:
                return ApiError.InvalidRequest("input must be a string, an array of strings, an array of token ids, or an array of such arrays.", "input");
        }
    }

    private static ApiError? AddText(LlamaModel model, string text, string param, List<LlamaToken[]> inputs)
    {
        if (text.Length == 0)
        {
            return ApiError.InvalidRequest($"{param} must not be an empty string.", param);
        }

        inputs.Add(model.Tokenize(text, addSpecial: true, parseSpecial: false));
        return null;
    }

    private static ApiError? AddTokens(LlamaModel model, JsonElement array, string param, List<LlamaToken[]> inputs)
    {
        var error = RequestValidator.ParseTokenIds(model, array, param, out var ids);
        if (error is null)
        {
            inputs.Add(ids);
        }

        return error;
    }

    /// <summary>An embeddings request's usage: input tokens only, and what the scheduler measured.</summary>
    internal static Usage Usage(EmbeddingResult result) => new()
    {
        PromptTokens = result.PromptTokens,
        TotalTokens = result.PromptTokens,
        Metering = new UsageMetering
        {
            QueueMs = Math.Round(result.QueueMs, 3),
            DurationMs = Math.Round(result.DurationMs, 3),
            ComputeSeconds = result.ComputeSeconds,
        },
    };

    /// <summary>OpenAI's response: <c>{object: list, data: [{object: embedding, index, embedding}], model, usage}</c>.</summary>
    private static void Write(Utf8JsonWriter json, EmbeddingResult result, string model, bool base64)
    {
        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        byte[]? bytes = null;
        for (var i = 0; i < result.Vectors.Count; i++)
        {
            var vector = result.Vectors[i];
            json.WriteStartObject();
            json.WriteString("object"u8, "embedding"u8);
            json.WriteNumber("index"u8, i);
            if (base64)
            {
                bytes ??= new byte[vector.Length * sizeof(float)];
                for (var k = 0; k < vector.Length; k++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(k * sizeof(float)), vector[k]);
                }

                json.WriteBase64String("embedding"u8, bytes);
            }
            else
            {
                json.WriteStartArray("embedding"u8);
                foreach (var x in vector)
                {
                    json.WriteNumberValue(x);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model"u8, model);
        var usage = Usage(result);
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        json.WriteNumber("total_tokens"u8, usage.TotalTokens);
        json.WriteStartObject("servegate"u8);
        json.WriteNumber("queue_ms"u8, usage.Metering!.QueueMs);
        json.WriteNumber("duration_ms"u8, usage.Metering.DurationMs);
        json.WriteNumber("compute_seconds"u8, usage.Metering.ComputeSeconds);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

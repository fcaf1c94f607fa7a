using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.Api.Responses;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Api;

/// <summary>The OpenAI-compatible endpoints of a worker, plus <c>/health</c> and <c>/ready</c>.</summary>
public static class OpenAiApi
{
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/health", () => TypedResults.Ok(new { status = "alive" }));
        endpoints.MapGet("/ready", Ready);
        var v1 = endpoints.MapGroup("/v1");
        v1.MapGet("/models", ListModels);
        v1.MapPost("/completions", (HttpContext context, ModelRegistry registry, IOptions<WorkerOptions> options, TimeProvider time) =>
            HandleAsync(context, registry, options.Value, time, chat: false));
        v1.MapPost("/chat/completions", (HttpContext context, ModelRegistry registry, IOptions<WorkerOptions> options, TimeProvider time) =>
            HandleAsync(context, registry, options.Value, time, chat: true));
        v1.MapPost("/embeddings", (HttpContext context, ModelRegistry registry, IOptions<WorkerOptions> options) =>
            EmbeddingsApi.HandleAsync(context, registry, options.Value));
        endpoints.MapGet("/internal/usage/{id}", FinalUsageAsync);
        endpoints.MapResponsesApi();
        return endpoints;
    }

    /// <summary>
    /// The exact usage of a request a gateway forwarded (by its <c>x-request-id</c>), once it has ended: waits up to
    /// <c>wait_ms</c> (at most 10 s) for a cancelled generation to wind down. 404 when unknown or still running.
    /// </summary>
    private static async Task<IResult> FinalUsageAsync(string id, int? wait_ms, FinalUsageRegistry registry, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(wait_ms ?? 0, 0, 10_000));
        return await registry.WaitAsync(id, wait, cancellationToken).ConfigureAwait(false) is { } usage
            ? TypedResults.Json(usage, OpenAiJson.Context.Usage)
            : TypedResults.Json(
                new ApiError(StatusCodes.Status404NotFound, $"No finished request '{id}' is known here.", "invalid_request_error", "id", "usage_not_found").ToEnvelope(),
                OpenAiJson.Context.ErrorEnvelope,
                statusCode: StatusCodes.Status404NotFound);
    }

    private static IResult Ready(ModelRegistry registry)
    {
        var models = registry.All.Select(m => new { id = m.Id, status = m.Status.ToString().ToLowerInvariant(), error = m.Error }).ToArray();
        return registry.AllReady
            ? TypedResults.Ok(new { status = "ready", models })
            : TypedResults.Json(new { status = registry.Configured ? "loading" : "preparing", models }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static IResult ListModels(ModelRegistry registry)
    {
        var cards = registry.All.Select(m => new ModelCard
        {
            Id = m.Id,
            Created = m.Created.ToUnixTimeSeconds(),
            Kind = m.Status == ModelStatus.Ready ? m.Kind.ToString().ToLowerInvariant() : (m.ConfiguredKind?.ToString().ToLowerInvariant() ?? "unknown"),
            ContextLength = m.Scheduler?.SequenceLimit ?? 0,
            Quantization = m.Model?.FileTypeName,
            Parameters = m.Model?.ParameterCount,
            SizeBytes = m.Model?.SizeBytes,
            Status = m.Status.ToString().ToLowerInvariant(),
        }).ToList();
        return TypedResults.Json(new ModelList { Data = cards }, OpenAiJson.Context.ModelList);
    }

    internal static async Task HandleAsync(HttpContext http, ModelRegistry registry, WorkerOptions options, TimeProvider time, bool chat)
    {
        var (body, readError) = await ReadBodyAsync(http, options.MaxRequestBodyBytes).ConfigureAwait(false);
        if (readError is not null)
        {
            await WriteErrorAsync(http, readError).ConfigureAwait(false);
            return;
        }

        GenerationPlan plan;
        var error = chat ? RequestValidator.ValidateChat(registry, body!, out plan) : RequestValidator.ValidateCompletions(registry, body!, out plan);
        if (error is not null)
        {
            await WriteErrorAsync(http, error).ConfigureAwait(false);
            return;
        }

        var id = (chat ? "chatcmpl-" : "cmpl-") + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var scheduler = plan.Model.Scheduler!;
        // One sequence per choice; the n choices of a prompt share its KV cells (the scheduler prefills it once).
        var handles = new List<GenerationHandle>(plan.Choices);
        for (var i = 0; i < plan.Choices; i++)
        {
            var request = new GenerationRequest
            {
                RequestId = plan.Choices == 1 ? id : $"{id}-{i}",
                Prompt = plan.Prompts[i / plan.N],
                MaxTokens = plan.MaxTokens,
                Sampling = plan.SamplingFor(i),
                Stop = plan.Stop,
                IgnoreEos = plan.IgnoreEos,
                TopLogprobs = plan.TopLogprobs,
            };
            if (!scheduler.TrySubmit(request, cancel.Token, out var handle))
            {
                await cancel.CancelAsync().ConfigureAwait(false);
                await WriteErrorAsync(http, Refusal(http, plan.Model, scheduler, options)).ConfigureAwait(false);
                return;
            }

            handles.Add(handle);
        }

        if (http.Request.Headers[FinalUsageRegistry.RequestIdHeader] is [{ Length: > 0 } gatewayId])
        {
            http.RequestServices.GetRequiredService<FinalUsageRegistry>().Track(gatewayId, handles, plan.N);
        }

        // A request that waits too long for a free sequence fails instead of hanging.
        var started = Task.WhenAll(handles.Select(h => h.Started));
        if (await Task.WhenAny(started, Task.Delay(options.Worker.QueueTimeout, time, http.RequestAborted)).ConfigureAwait(false) != started)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            if (!http.RequestAborted.IsCancellationRequested)
            {
                http.Response.Headers.RetryAfter = "5";
                await WriteErrorAsync(http, ApiError.Unavailable(
                    $"The request waited {options.Worker.QueueTimeout.TotalSeconds:F0} s for a free sequence of '{plan.Model.Id}'; retry later.", "queue_timeout")).ConfigureAwait(false);
            }

            return;
        }

        var response = new ResponseContext(id, created, plan.Model.Id, chat, plan);
        try
        {
            if (plan.Stream)
            {
                await StreamAsync(http, response, handles, cancel.Token).ConfigureAwait(false);
            }
            else
            {
                await RespondAsync(http, response, handles, cancel.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; the scheduler has seen the cancellation and freed the sequence.
        }
    }

    /// <summary>Why the scheduler refused a request: it has failed or is stopping (503, no retry hint), else its queue is full (429).</summary>
    private static ApiError Refusal(HttpContext http, ServedModel model, InferenceScheduler scheduler, WorkerOptions options)
    {
        // A scheduler that failed after validation: the model's status says so now.
        if (RequestValidator.StatusError(model) is { } failed)
        {
            return failed;
        }

        if (scheduler.Stopping)
        {
            return ApiError.Unavailable($"The model '{model.Id}' is shutting down.", "model_unavailable");
        }

        http.Response.Headers.RetryAfter = "1";
        return ApiError.Overloaded($"The model '{model.Id}' has {options.Worker.MaxQueue} requests waiting already; retry after a second.");
    }

    private static async Task<(CompletionRequestBody? Body, ApiError? Error)> ReadBodyAsync(HttpContext http, long limit)
    {
        var (bytes, readError) = await JsonRequestBody.ReadAsync(http, limit).ConfigureAwait(false);
        if (readError is not null)
        {
            return (null, readError);
        }

        try
        {
            var body = JsonSerializer.Deserialize(bytes.Span, OpenAiJson.Context.CompletionRequestBody);
            return body is null
                ? (null, ApiError.InvalidRequest("The request body must be a JSON object."))
                : (body, null);
        }
        catch (JsonException ex)
        {
            // System.Text.Json's messages name .NET types; say it in the API's terms.
            var field = JsonRequestBody.FieldOf(ex);
            var message = field is null || ex.Message.Contains("invalid", StringComparison.OrdinalIgnoreCase) && ex.Message.Contains("LineNumber", StringComparison.Ordinal) && !ex.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? $"We could not parse the JSON body of your request: {FirstSentence(ex.Message)} The body must be a JSON object."
                : $"The field '{field}' has a value of the wrong type; see the OpenAI API reference for its type.";
            return (null, ApiError.InvalidRequest(message, field));
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    internal static async Task WriteErrorAsync(HttpContext http, ApiError error)
    {
        http.Response.StatusCode = error.Status;
        await http.Response.WriteAsJsonAsync(error.ToEnvelope(), OpenAiJson.Context.ErrorEnvelope, contentType: "application/json").ConfigureAwait(false);
    }

    private static async Task RespondAsync(HttpContext http, ResponseContext response, List<GenerationHandle> handles, CancellationToken cancellationToken)
    {
        var results = new GenerationResult[handles.Count];
        var texts = new string[handles.Count];
        var logprobs = new List<TokenLogprob>?[handles.Count];
        for (var i = 0; i < handles.Count; i++)
        {
            var text = new System.Text.StringBuilder();
            await foreach (var e in handles[i].Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (e)
                {
                    case TextDelta delta:
                        text.Append(delta.Text);
                        if (delta.Logprobs is not null)
                        {
                            (logprobs[i] ??= []).AddRange(delta.Logprobs);
                        }

                        break;
                    case GenerationCompleted completed:
                        results[i] = completed.Result;
                        break;
                }
            }

            texts[i] = text.ToString();
        }

        var failed = results.FirstOrDefault(r => r.FinishReason == FinishReason.Error);
        if (failed is not null)
        {
            await WriteErrorAsync(http, ApiError.Unavailable(failed.Error ?? "Generation failed.", "generation_failed")).ConfigureAwait(false);
            return;
        }

        var usage = ResponseContext.Usage(results, response.Plan.N);
        if (response.Chat)
        {
            var body = new ChatCompletionResponse
            {
                Id = response.Id,
                Created = response.Created,
                Model = response.Model,
                Choices = [.. results.Select((r, i) => response.ChatMessageChoice(i, r, texts[i], logprobs[i]))],
                Usage = usage,
            };
            await http.Response.WriteAsJsonAsync(body, OpenAiJson.Context.ChatCompletionResponse, contentType: null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var body = new CompletionResponse
            {
                Id = response.Id,
                Created = response.Created,
                Model = response.Model,
                Choices = [.. results.Select((r, i) => new CompletionChoice
                {
                    Index = i,
                    Text = response.EchoText(i) + texts[i],
                    Logprobs = ResponseContext.CompletionLogprobs(logprobs[i]),
                    FinishReason = ResponseContext.Finish(r.FinishReason),
                })],
                Usage = usage,
            };
            await http.Response.WriteAsJsonAsync(body, OpenAiJson.Context.CompletionResponse, contentType: null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task StreamAsync(HttpContext http, ResponseContext response, List<GenerationHandle> handles, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var sse = new SseWriter(http.Response.BodyWriter);

        if (response.Chat)
        {
            for (var i = 0; i < handles.Count; i++)
            {
                await sse.WriteAsync(response.ChatChunk(i, new ChatMessageOut { Role = "assistant", Content = string.Empty }, null, null), cancellationToken).ConfigureAwait(false);
            }
        }

        if (response.Plan.Echo is not null)
        {
            for (var i = 0; i < handles.Count; i++)
            {
                await sse.WriteAsync(response.CompletionChunk(i, response.EchoText(i), null, null), cancellationToken).ConfigureAwait(false);
            }
        }

        var results = new GenerationResult?[handles.Count];

        // Text that may hold tool calls goes through a parser that sends what it knows as it knows it (docs/architecture.md, "Tool calls").
        var parsers = response.Plan.Tools is { ParsesCalls: true } tools
            ? handles.Select(_ => new ToolCallStreamParser(tools.Functions, tools.Parallel)).ToArray()
            : null;
        var deltas = new List<ToolStreamDelta>();
        await foreach (var (index, e) in Interleave(handles, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case TextDelta delta when parsers is not null:
                    parsers[index].Push(delta.Text, deltas);
                    await WriteToolDeltasAsync(sse, response, index, deltas, cancellationToken).ConfigureAwait(false);
                    break;
                case GenerationCompleted completed when parsers is not null && completed.Result.FinishReason is FinishReason.Stop or FinishReason.Length:
                    results[index] = completed.Result;
                    var cutOff = completed.Result.FinishReason == FinishReason.Length;
                    parsers[index].End(cutOff, deltas);
                    await WriteToolDeltasAsync(sse, response, index, deltas, cancellationToken).ConfigureAwait(false);
                    var finish = cutOff ? "length" : parsers[index].CallCount > 0 ? "tool_calls" : "stop";
                    await sse.WriteAsync(response.ChatChunk(index, new ChatMessageOut(), finish, null), cancellationToken).ConfigureAwait(false);
                    break;
                case TextDelta delta:
                    await sse.WriteAsync(response.Chat
                        ? response.ChatChunk(index, new ChatMessageOut { Content = delta.Text }, null, ResponseContext.ChatLogprobs(delta.Logprobs))
                        : response.CompletionChunk(index, delta.Text, null, ResponseContext.CompletionLogprobs(delta.Logprobs)), cancellationToken).ConfigureAwait(false);
                    break;
                case GenerationCompleted completed:
                    results[index] = completed.Result;
                    if (completed.Result.FinishReason == FinishReason.Error)
                    {
                        await sse.WriteErrorAsync(ApiError.Unavailable(completed.Result.Error ?? "Generation failed.", "generation_failed"), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        var reason = ResponseContext.Finish(completed.Result.FinishReason);
                        await sse.WriteAsync(response.Chat
                            ? response.ChatChunk(index, new ChatMessageOut(), reason, null)
                            : response.CompletionChunk(index, string.Empty, reason, null), cancellationToken).ConfigureAwait(false);
                    }

                    break;
            }
        }

        if (response.Plan.IncludeUsage && results.All(r => r is not null))
        {
            await sse.WriteAsync(response.UsageChunk(ResponseContext.Usage(results!, response.Plan.N)), cancellationToken).ConfigureAwait(false);
        }

        await sse.WriteDoneAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteToolDeltasAsync(SseWriter sse, ResponseContext response, int index, List<ToolStreamDelta> deltas, CancellationToken cancellationToken)
    {
        foreach (var delta in deltas)
        {
            await sse.WriteAsync(response.ChatChunk(index, ResponseContext.ToolStreamChunk(delta), null, null), cancellationToken).ConfigureAwait(false);
        }

        deltas.Clear();
    }

    /// <summary>
    /// The events of every generation of a request as they come, each with its choice index. One generation (the usual
    /// case) is read directly; several (prompts times <c>n</c>) are merged through a channel, one pump each.
    /// </summary>
    private static async IAsyncEnumerable<(int Index, GenerationEvent Event)> Interleave(
        List<GenerationHandle> handles, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (handles.Count == 1)
        {
            await foreach (var e in handles[0].Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return (0, e);
            }

            yield break;
        }

        var merged = Channel.CreateUnbounded<(int Index, GenerationEvent Event)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = handles.Select((h, i) => Task.Run(async () =>
        {
            await foreach (var e in h.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                merged.Writer.TryWrite((i, e));
            }
        }, cancellationToken)).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServeGate.LoadTests.Tests.Infrastructure;

/// <summary>How the fake server answers; the timings are what the load tester must measure back.</summary>
internal sealed record FakeServerBehavior
{
    /// <summary>From the request to the first content chunk (a role-only chunk goes out at once, as llama-server does).</summary>
    public TimeSpan TimeToFirstToken { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Between successive content chunks, one token each.</summary>
    public TimeSpan TokenInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Tokens per answer; null: the request's max_tokens.</summary>
    public int? Tokens { get; init; }

    public int PromptTokens { get; init; } = 100;

    public int CachedTokens { get; init; } = 25;

    /// <summary>Whether usage is sent (final chunk when stream_options.include_usage, or in the whole response).</summary>
    public bool ReportUsage { get; init; } = true;

    /// <summary>Given the 1-based request number, an HTTP status to fail with, or null to answer normally.</summary>
    public Func<int, int?> FailWith { get; init; } = _ => null;

    /// <summary>Wait this long before sending the headers (for timeouts).</summary>
    public TimeSpan HeaderDelay { get; init; }

    /// <summary>What GET /economics answers (the cost URL); null: 404.</summary>
    public string? CostJson { get; init; }

    /// <summary>Send an error object as an event (as llama-server does mid-stream) after this many content chunks.</summary>
    public int? ErrorEventAfterTokens { get; init; }

    /// <summary>Answer streaming requests with a whole JSON response, as a server that ignores "stream" would.</summary>
    public bool IgnoreStream { get; init; }

    /// <summary>Abort the connection after this many content chunks.</summary>
    public int? DisconnectAfterTokens { get; init; }
}

/// <summary>
/// An OpenAI-compatible server with known timing on real Kestrel, loopback, port 0: chat and completions,
/// streamed (SSE with a role-only first chunk, one token per chunk, a finish chunk, a usage chunk, [DONE]) or whole.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeServerBehavior _behavior;
    private int _requests;

    private FakeOpenAiServer(WebApplication app, FakeServerBehavior behavior)
    {
        _app = app;
        _behavior = behavior;
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Requests received so far.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>Each request's JSON body and Authorization header, in arrival order.</summary>
    public ConcurrentQueue<(JsonElement Body, string? Authorization, string Path)> Received { get; } = new();

    /// <summary>The id of the connection each request arrived on, in arrival order.</summary>
    public ConcurrentQueue<string> ConnectionIds { get; } = new();

    /// <summary>The query string of the last <c>/v1/organization/costs</c> call.</summary>
    public string? CostQuery { get; private set; }

    public static async Task<FakeOpenAiServer> StartAsync(FakeServerBehavior? behavior = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeOpenAiServer(app, behavior ?? new FakeServerBehavior());
        app.MapPost("/v1/chat/completions", context => server.HandleAsync(context, chat: true));
        app.MapPost("/v1/completions", context => server.HandleAsync(context, chat: false));
        if (server._behavior.CostJson is { } cost)
        {
            app.MapGet("/economics", () => TypedResults.Text(cost, "application/json"));
            app.MapGet("/v1/organization/costs", (HttpRequest request) =>
            {
                server.CostQuery = request.QueryString.Value;
                return TypedResults.Text(cost, "application/json");
            });
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, bool chat)
    {
        var start = Stopwatch.GetTimestamp();
        var number = Interlocked.Increment(ref _requests);
        var aborted = context.RequestAborted;
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: aborted);
        var body = document.RootElement.Clone();
        ConnectionIds.Enqueue(context.Connection.Id);
        Received.Enqueue((body, context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null, context.Request.Path));

        if (_behavior.FailWith(number) is { } status)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"error\":{\"message\":\"fake failure\",\"code\":" + status + "}}", aborted);
            return;
        }

        if (_behavior.HeaderDelay > TimeSpan.Zero)
        {
            await Task.Delay(_behavior.HeaderDelay, aborted);
        }

        var tokens = _behavior.Tokens ?? body.GetProperty("max_tokens").GetInt32();
        var stream = body.TryGetProperty("stream", out var s) && s.GetBoolean() && !_behavior.IgnoreStream;
        var includeUsage = _behavior.ReportUsage && body.TryGetProperty("stream_options", out var options) &&
            options.TryGetProperty("include_usage", out var include) && include.GetBoolean();
        var usage = Invariant($"{{\"prompt_tokens\":{_behavior.PromptTokens},\"completion_tokens\":{tokens},\"total_tokens\":{_behavior.PromptTokens + tokens},\"prompt_tokens_details\":{{\"cached_tokens\":{_behavior.CachedTokens}}}}}");

        if (!stream)
        {
            await DelayUntilAsync(start, _behavior.TimeToFirstToken + (_behavior.TokenInterval * (tokens - 1)), aborted);
            var text = string.Join(" ", Enumerable.Range(0, tokens).Select(i => "tok" + i));
            var choice = chat
                ? $"{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{text}\"}},\"finish_reason\":\"length\"}}"
                : $"{{\"index\":0,\"text\":\"{text}\",\"finish_reason\":\"length\"}}";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                $"{{\"id\":\"x\",\"object\":\"{(chat ? "chat.completion" : "text_completion")}\",\"choices\":[{choice}]" +
                (_behavior.ReportUsage ? ",\"usage\":" + usage : "") + "}", aborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        if (chat)
        {
            await WriteEventAsync(context, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}");
        }
        else
        {
            await context.Response.Body.FlushAsync(aborted);
        }

        for (var i = 0; i < tokens; i++)
        {
            await DelayUntilAsync(start, _behavior.TimeToFirstToken + (_behavior.TokenInterval * i), aborted);
            var piece = (i == 0 ? "tok" : " tok") + i.ToString(CultureInfo.InvariantCulture);
            await WriteEventAsync(context, chat
                ? $"{{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{piece}\"}},\"finish_reason\":null}}]}}"
                : $"{{\"choices\":[{{\"index\":0,\"text\":\"{piece}\",\"finish_reason\":null}}]}}");
            if (_behavior.DisconnectAfterTokens == i + 1)
            {
                context.Abort();
                return;
            }

            if (_behavior.ErrorEventAfterTokens == i + 1)
            {
                await WriteEventAsync(context, "{\"error\":{\"code\":500,\"message\":\"fake failure in the stream\",\"type\":\"server_error\"}}");
                return;
            }
        }

        await WriteEventAsync(context, chat
            ? "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}"
            : "{\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}");
        if (includeUsage)
        {
            await WriteEventAsync(context, "{\"choices\":[],\"usage\":" + usage + "}");
        }

        await WriteEventAsync(context, "[DONE]");
    }

    private static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>Waits until <paramref name="offset"/> after <paramref name="start"/>, so delays do not add up.</summary>
    private static async Task DelayUntilAsync(long start, TimeSpan offset, CancellationToken cancellationToken)
    {
        var remaining = offset - Stopwatch.GetElapsedTime(start);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellationToken);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

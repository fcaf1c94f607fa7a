using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ServeGate.Tests.Common;

namespace ServeGate.EndToEnd.Tests;

/// <summary>
/// A gateway process killed with SIGKILL mid-run and started again on the same data folder: every request whose
/// response a client saw finish has exactly one usage record, and no record is doubled.
/// </summary>
public sealed class LedgerCrashTests
{
    private static string GatewayDll()
    {
        var published = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "gateway", "ServeGate.Gateway.dll");
        var built = Path.Combine(TestEnvironment.RepositoryRoot, "src", "ServeGate.Gateway", "bin", "Release", "net10.0", "ServeGate.Gateway.dll");
        return File.Exists(built) ? built : published;
    }

    private static (Process Process, StringBuilder Output) Start(int port, string model, string dataDirectory)
    {
        var start = new ProcessStartInfo("dotnet", [GatewayDll(), "--port", port.ToString(CultureInfo.InvariantCulture), "--model", model, "--data-dir", dataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The store commits only every 2 s: at the kill, finished requests are in the spool and not yet in the store.
        start.Environment["ServeGate__Metering__FlushInterval"] = "00:00:02";
        start.Environment["ServeGate__Worker__Parallel"] = "4";
        start.Environment["Logging__LogLevel__ServeGate.Ledger"] = "Information";
        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    private static async Task WaitReadyAsync(HttpClient http, Process process, StringBuilder output)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        Assert.Fail($"The gateway did not become ready. Output:\n{output}");
    }

    /// <summary>One request; its id when the client saw the response finish (JSON read whole, or the stream's [DONE]).</summary>
    private static async Task<string?> RequestAsync(HttpClient http, string model, int i)
    {
        var stream = i % 2 == 1;
        var body = $$"""{"model": "{{model}}", "prompt": "Request {{i}} says", "max_tokens": {{4 + (i % 8)}}, "stream": {{(stream ? "true" : "false")}}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var id = response.Headers.GetValues("x-request-id").Single();
        var text = await response.Content.ReadAsStringAsync();
        var finished = stream ? text.Contains("data: [DONE]", StringComparison.Ordinal) : JsonNode.Parse(text)?["usage"] is not null;
        return finished ? id : null;
    }

    [Fact]
    public async Task Gateway_KilledMidRun_EveryFinishedRequestRecordedOnce()
    {
        var model = await TestModels.GetAsync(TestModel.TinyBase);
        var data = Directory.CreateTempSubdirectory("servegate-crash-").FullName;
        var port = TestEnvironment.FreePort();
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        var (first, firstOutput) = Start(port, model, data);
        var finished = new List<string>();
        try
        {
            await WaitReadyAsync(http, first, firstOutput);
            using var stop = new CancellationTokenSource();
            var next = 0;
            var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        if (await RequestAsync(http, Path.GetFileNameWithoutExtension(model), Interlocked.Increment(ref next)) is { } id)
                        {
                            lock (finished)
                            {
                                finished.Add(id);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
                    {
                        // the gateway died under this request: it did not finish for the client
                        await Task.Delay(50);
                    }
                }
            })).ToList();

            // Kill mid-run once enough requests finished (bounded: a loaded machine serves fewer).
            var running = Stopwatch.StartNew();
            while (running.Elapsed < TimeSpan.FromSeconds(20) && Volatile.Read(ref next) < 24)
            {
                await Task.Delay(100);
            }

            first.Kill(); // SIGKILL: no shutdown, no drain
            await first.WaitForExitAsync();
            await Task.Delay(500);
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill();
            }

            first.Dispose();
        }

        Assert.True(finished.Count >= 4, $"only {finished.Count} requests finished before the kill");
        var (second, secondOutput) = Start(port, model, data);
        try
        {
            await WaitReadyAsync(http, second, secondOutput);
            List<string> ids = [];
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                var list = JsonNode.Parse(await http.GetStringAsync(new Uri("/admin/usage?limit=100000", UriKind.Relative)))!["data"]!.AsArray();
                ids = [.. list.Select(r => (string)r!["request_id"]!)];
                if (finished.All(ids.Contains))
                {
                    break;
                }

                await Task.Delay(250);
            }

            Assert.Empty(finished.Except(ids));                          // none lost
            Assert.Equal(ids.Count, ids.Distinct().Count());               // none doubled
            lock (secondOutput)
            {
                Assert.Contains("Replayed", secondOutput.ToString(), StringComparison.Ordinal); // the spool held what the store had not
            }
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
            second.Dispose();
            Directory.Delete(data, recursive: true);
        }
    }
}

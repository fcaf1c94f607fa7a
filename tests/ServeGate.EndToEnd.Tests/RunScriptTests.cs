using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ServeGate.Tests.Common;

namespace ServeGate.EndToEnd.Tests;

/// <summary>
/// ./run.sh from a fresh cache (it fetches llama.cpp, builds, generates the demo models and serves them), and the built
/// gateway's start-up choices of llama.cpp build, in processes of their own (the backend is loaded once per process).
/// </summary>
public sealed class RunScriptTests
{
    private static Process Start(string script, string cache, params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestEnvironment.RepositoryRoot, script), .. args])
        {
            WorkingDirectory = TestEnvironment.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["SERVEGATE_CACHE"] = cache;
        return Process.Start(start)!;
    }

    /// <summary>Collects a started process's standard output and error, line by line (lock it to read).</summary>
    private static StringBuilder CaptureOutput(Process process)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    /// <summary>Polls <c>/ready</c> until it answers 200, the process exits, or <paramref name="limit"/> passes.</summary>
    private static async Task<bool> WaitReadyAsync(HttpClient http, Process process, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500);
        }

        return false;
    }

    [Fact]
    public async Task RunSh_FreshCacheFreePort_ServesDemoModels()
    {
        var cache = Directory.CreateTempSubdirectory("servegate-newcomer-").FullName;
        var port = TestEnvironment.FreePort();
        using var process = Start("run.sh", cache, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var output = CaptureOutput(process);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            // Fetch (npm), build and model generation: minutes at most on a 2-core machine.
            var ready = await WaitReadyAsync(http, process, TimeSpan.FromMinutes(6));

            Assert.True(ready, $"run.sh did not become ready (exited: {process.HasExited}). Output:\n{output}");

            var models = JsonNode.Parse(await http.GetStringAsync(new Uri("/v1/models", UriKind.Relative)))!["data"]!.AsArray();
            Assert.Contains(models, m => (string?)m!["id"] == "servegate-demo-base" && (string?)m["kind"] == "base");
            Assert.Contains(models, m => (string?)m!["id"] == "servegate-demo-instruct" && (string?)m["kind"] == "instruct");

            using var completion = await http.PostAsync(new Uri("/v1/completions", UriKind.Relative), new StringContent(
                """{"model": "servegate-demo-base", "prompt": "The capital of France is", "max_tokens": 5}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
            using var chat = await http.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent(
                """{"model": "servegate-demo-instruct", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.True(File.Exists(Path.Combine(cache, "llama.cpp", "3.22.1", "cpu", ".complete")));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            Directory.Delete(cache, recursive: true);
        }
    }

    private static ProcessStartInfo Gateway(params string[] args)
    {
        var gateway = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "gateway", "ServeGate.Gateway.dll");
        Assert.True(File.Exists(gateway), $"{gateway} is built by ./run.sh (RunSh test) or ./test.sh");
        return new ProcessStartInfo("dotnet", [gateway, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
    }

    [Fact]
    public async Task Gateway_CpuVariant_LoadsThatVariantAndServes()
    {
        var port = TestEnvironment.FreePort();
        var model = await TestModels.GetAsync(TestModel.TinyBase);
        var start = Gateway("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", model);
        start.Environment["LlamaCpp__CpuVariant"] = "x64";
        using var process = Process.Start(start)!;
        var output = CaptureOutput(process);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var ready = await WaitReadyAsync(http, process, TimeSpan.FromSeconds(60));

            Assert.True(ready, $"the gateway did not become ready. Output:\n{output}");
            using var completion = await http.PostAsync(new Uri("/v1/completions", UriKind.Relative), new StringContent(
                $$"""{"model": "{{Path.GetFileNameWithoutExtension(model)}}", "prompt": "The capital of France is", "max_tokens": 5}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
            lock (output)
            {
                Assert.Contains("CPU variant x64,", output.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Gateway_UnknownCpuVariant_ExitsListingTheVariants()
    {
        var start = Gateway("--port", "0");
        start.Environment["LlamaCpp__CpuVariant"] = "pentium";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        var message = await stderr;
        Assert.Contains("LlamaCpp:CpuVariant 'pentium' is not in", message, StringComparison.Ordinal);
        Assert.Contains("x64", message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_CudaBackendWithoutGpu_ExitsWithClearMessage()
    {
        // The CUDA build is fetched by ./test.sh (eng/fetch-llama.sh --cuda); these machines have no NVIDIA GPU.
        using var process = Process.Start(Gateway("--backend", "cuda", "--port", "0"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        var message = await stderr;
        Assert.Contains("Backend 'cuda' was requested but no CUDA device was found", message, StringComparison.Ordinal);
        Assert.Contains("Backend=cpu", message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }
}

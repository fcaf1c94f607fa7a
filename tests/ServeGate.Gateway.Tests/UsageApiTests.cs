using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>A gateway with an admin key and two teams' keys, some live requests and a seeded past day.</summary>
public sealed class UsageApiFixture : IAsyncLifetime
{
    public const string AdminKey = "usage-admin-key";

    /// <summary>The seeded day (records with charges, and a pool's up-time), far from the live requests.</summary>
    public static readonly DateTimeOffset Day = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public GatewayHost Host { get; private set; } = null!;

    public string RedKey { get; private set; } = string.Empty;

    public string BlueKey { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Host = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["ServeGate:Gateway:AdminKey"] = AdminKey });
        RedKey = await CreateKeyAsync("red");
        BlueKey = await CreateKeyAsync("blue");
        static UsageRecord Seed(string id, int hour, string team, string model, decimal inference, decimal training) => new()
        {
            RequestId = id,
            Timestamp = Day.AddHours(hour),
            KeyId = "key-" + team,
            Team = team,
            Model = model,
            Worker = "local",
            Endpoint = "/v1/completions",
            PromptTokens = 100,
            CachedTokens = 40,
            CompletionTokens = 10,
            HttpStatus = 200,
            Charges = new UsageCharges { Pool = "local", Checkpoint = "ck", HardwareUsdPerHour = 2m, InferenceCostUsd = inference, TrainingShareUsd = training },
        };
        await Host.UsageStore.AppendAsync(
        [
            Seed("seed-1", 1, "red", "m1", 0.5m, 0.01m),
            Seed("seed-2", 2, "red", "m2", 0.25m, 0m),
            Seed("seed-3", 3, "blue", "m1", 0.125m, 0.02m),
        ], CancellationToken.None);
        // The pool was up 10 hours that day at $2/h: $20 paid, $0.875 of it busy.
        await Host.UsageStore.RecordUptimeAsync(new PoolUptime { Pool = "local", InstanceId = "seed", Start = Day, End = Day.AddHours(10), HardwareUsdPerHour = 2m }, CancellationToken.None);
    }

    private async Task<string> CreateKeyAsync(string team)
    {
        using var response = await Host.SendAsync(HttpMethod.Post, "/admin/keys", AdminKey, new { name = team, team });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)GatewayHost.Parse(await response.Content.ReadAsStringAsync())!["key"]!;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>The OpenAI-shaped usage and costs APIs through real Kestrel: shapes, paging, CSV, errors and who sees what.</summary>
public sealed class UsageApiTests(UsageApiFixture fixture) : IClassFixture<UsageApiFixture>
{
    private GatewayHost Gateway => fixture.Host;

    private static long Unix(DateTimeOffset at) => at.ToUnixTimeSeconds();

    private async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> GetAsync(string path, string? key = UsageApiFixture.AdminKey)
    {
        using var response = await Gateway.SendAsync(HttpMethod.Get, path, key);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text) : null, text);
    }

    [Fact]
    public async Task Completions_SeededDayByProjectAndModel_OpenAiShapeWithHandSums()
    {
        var (status, body, _) = await GetAsync($"/v1/organization/usage/completions?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}&group_by=project_id&group_by[]=model");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("page", (string?)body!["object"]);
        Assert.False((bool)body["has_more"]!);
        Assert.Null(body["next_page"]);
        var bucket = Assert.Single(body["data"]!.AsArray())!;
        Assert.Equal("bucket", (string?)bucket["object"]);
        Assert.Equal(Unix(UsageApiFixture.Day), (long)bucket["start_time"]!);
        Assert.Equal(Unix(UsageApiFixture.Day.AddDays(1)), (long)bucket["end_time"]!);
        var results = bucket["results"]!.AsArray();
        Assert.Equal(3, results.Count);
        var redM1 = results.Single(r => (string?)r!["project_id"] == "red" && (string?)r["model"] == "m1")!;
        Assert.Equal("organization.usage.completions.result", (string?)redM1["object"]);
        Assert.Equal((100L, 10L, 40L, 1L), ((long)redM1["input_tokens"]!, (long)redM1["output_tokens"]!, (long)redM1["input_cached_tokens"]!, (long)redM1["num_model_requests"]!));
        Assert.Null(redM1["api_key_id"]);
        Assert.True(redM1.AsObject().ContainsKey("user_id")); // OpenAI's fields ServeGate has none of are there, null or 0
        Assert.Equal(0, (long)redM1["input_audio_tokens"]!);
    }

    [Fact]
    public async Task Costs_ByLineItem_InferenceTrainingAndIdleCapacity()
    {
        var (status, body, _) = await GetAsync($"/v1/organization/costs?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}&group_by=line_item");

        Assert.Equal(HttpStatusCode.OK, status);
        var results = Assert.Single(body!["data"]!.AsArray())!["results"]!.AsArray();
        decimal Amount(string item) => (decimal)results.Single(r => (string?)r!["line_item"] == item)!["amount"]!["value"]!;
        Assert.All(results, r => Assert.Equal(("organization.costs.result", "usd"), ((string?)r!["object"], (string?)r["amount"]!["currency"])));
        Assert.Equal(0.875m, Amount("inference"));
        Assert.Equal(0.03m, Amount("training"));
        Assert.Equal(20m - 0.875m, Amount("idle capacity"));

        var (_, total, _) = await GetAsync($"/v1/organization/costs?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}");
        var one = Assert.Single(Assert.Single(total!["data"]!.AsArray())!["results"]!.AsArray())!;
        Assert.Equal(20.03m, (decimal)one["amount"]!["value"]!);
        Assert.Null(one["line_item"]);
    }

    [Fact]
    public async Task TeamKey_AnotherTeamsProject_GetsNothingOfIt()
    {
        var range = $"start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}";
        var (_, other, _) = await GetAsync($"/v1/organization/usage/completions?{range}&project_ids=red", fixture.BlueKey);
        var (_, own, _) = await GetAsync($"/v1/organization/usage/completions?{range}&group_by=project_id", fixture.BlueKey);
        var (_, costs, _) = await GetAsync($"/v1/organization/costs?{range}&project_ids=red&group_by=line_item", fixture.BlueKey);
        var (_, ownCosts, _) = await GetAsync($"/v1/organization/costs?{range}&group_by=line_item", fixture.BlueKey);
        var (_, export, csv) = await GetAsync($"/v1/organization/usage/export?{range}&project_id=red", fixture.BlueKey);

        Assert.Empty(Assert.Single(other!["data"]!.AsArray())!["results"]!.AsArray());
        var ownResult = Assert.Single(Assert.Single(own!["data"]!.AsArray())!["results"]!.AsArray())!;
        Assert.Equal(("blue", 1L), ((string?)ownResult["project_id"], (long)ownResult["num_model_requests"]!));
        Assert.Empty(Assert.Single(costs!["data"]!.AsArray())!["results"]!.AsArray());
        var ownItems = Assert.Single(ownCosts!["data"]!.AsArray())!["results"]!.AsArray();
        Assert.DoesNotContain(ownItems, r => (string?)r!["line_item"] == "idle capacity"); // the organization's, not a team's
        Assert.Equal(0.125m, (decimal)ownItems.Single(r => (string?)r!["line_item"] == "inference")!["amount"]!["value"]!);
        Assert.Null(export);
        Assert.DoesNotContain("seed-", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Economics_SeededDay_PerVariantBusyIdleAndTrainingFromTheLedger()
    {
        var (status, body, _) = await GetAsync($"/v1/economics?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}");

        Assert.Equal(HttpStatusCode.OK, status);
        var variants = body!["checkpoints"]!.AsArray().SelectMany(c => c!["variants"]!.AsArray()).ToDictionary(v => (string)v!["model"]!, v => v!);
        // m1: seed-1 (red) and seed-3 (blue), 110 tokens each; $0.50 + $0.125 busy, $0.03 amortized.
        Assert.Equal(220, (long)variants["m1"]["tokens"]!);
        Assert.Equal(0.625m, (decimal)variants["m1"]["inference_cost_usd"]!);
        Assert.Equal(0.03m, (decimal)variants["m1"]["amortized_training_usd"]!);
        // The pool: 10 h at $2/h = $20 paid, $0.875 busy: $19.125 idle, split by busy share (0.625 : 0.25).
        var pool = Assert.Single(body["pools"]!.AsArray(), p => (string)p!["pool"]! == "local")!;
        Assert.Equal(19.125m, (decimal)pool["idle_cost_usd"]!);
        Assert.Equal(19.125m * 0.625m / 0.875m, (decimal)variants["m1"]["idle_cost_usd"]!, 6);
        Assert.Equal(19.125m * 0.25m / 0.875m, (decimal)variants["m2"]["idle_cost_usd"]!, 6);
        Assert.NotNull(variants["m1"]["break_even"]!["summary"]);
    }

    [Fact]
    public async Task Economics_TeamKey_OnlyItsTeamsTrafficAndNoIdleCapacity()
    {
        var (status, body, _) = await GetAsync($"/v1/economics?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}", fixture.RedKey);

        Assert.Equal(HttpStatusCode.OK, status);
        var variants = body!["checkpoints"]!.AsArray().SelectMany(c => c!["variants"]!.AsArray()).ToDictionary(v => (string)v!["model"]!, v => v!);
        Assert.Equal(110, (long)variants["m1"]["tokens"]!); // seed-3 is blue's
        Assert.Equal(0.5m, (decimal)variants["m1"]["inference_cost_usd"]!);
        Assert.Equal(0m, (decimal)variants["m1"]["idle_cost_usd"]!);
        Assert.DoesNotContain(body["pools"]!.AsArray(), p => (double)p!["uptime_seconds"]! > 0);
    }

    [Fact]
    public async Task Economics_AsCsvAndBadParameters()
    {
        var (status, _, csv) = await GetAsync($"/v1/economics?start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}&format=csv");
        var (unknown, error, _) = await GetAsync("/v1/economics?group_by=model");
        var (noKey, _, _) = await GetAsync("/v1/economics", key: null);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("checkpoint,model,requests,tokens,", csv, StringComparison.Ordinal);
        Assert.Contains("\r\nm1,m1,2,220,", csv, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("group_by", (string?)error!["error"]!["param"]);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey);
    }

    [Fact]
    public async Task Completions_MinuteBucketsPaged_WalksEveryBucketOnce()
    {
        var start = UsageApiFixture.Day.AddMinutes(55);
        var end = UsageApiFixture.Day.AddMinutes(65).AddSeconds(30);
        var path = $"/v1/organization/usage/completions?start_time={Unix(start)}&end_time={Unix(end)}&bucket_width=1m&limit=4";
        var starts = new List<long>();
        string? page = null;
        var pages = 0;
        do
        {
            var (status, body, _) = await GetAsync(path + (page is null ? string.Empty : "&page=" + page));
            Assert.Equal(HttpStatusCode.OK, status);
            starts.AddRange(body!["data"]!.AsArray().Select(b => (long)b!["start_time"]!));
            page = (bool)body["has_more"]! ? (string?)body["next_page"] : null;
            pages++;
        }
        while (page is not null);

        Assert.Equal(3, pages); // 11 buckets, 4 a page
        Assert.Equal(Enumerable.Range(55, 11).Select(m => Unix(UsageApiFixture.Day.AddMinutes(m))), starts);
    }

    [Theory]
    [InlineData("", "start_time", null)]
    [InlineData("start_time=abc", "start_time", null)]
    [InlineData("start_time=1000&end_time=900", "end_time", null)]
    [InlineData("start_time=1000&bucket_width=2h", "bucket_width", null)]
    [InlineData("start_time=1000&bucket_width=1d&limit=32", "limit", null)]
    [InlineData("start_time=1000&group_by=user_id", "group_by", null)]
    [InlineData("start_time=1000&page=nonsense", "page", null)]
    [InlineData("start_time=1000&user_ids=u1", "user_ids", "unsupported_parameter")]
    public async Task Completions_BadParameter_400WithParam(string query, string param, string? code)
    {
        var (status, body, _) = await GetAsync("/v1/organization/usage/completions?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, (string?)body!["error"]!["param"]);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
        if (code is not null)
        {
            Assert.Equal(code, (string?)body["error"]!["code"]);
        }
    }

    [Fact]
    public async Task Costs_BucketWidthOneMinute_400()
    {
        var (status, body, _) = await GetAsync("/v1/organization/costs?start_time=1000&bucket_width=1m");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("bucket_width", (string?)body!["error"]!["param"]);
    }

    [Fact]
    public async Task Reports_NoKey_401()
    {
        var (status, _, _) = await GetAsync("/v1/organization/costs?start_time=1000", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Reports_AsCsv_ByFormatOrAccept()
    {
        var range = $"start_time={Unix(UsageApiFixture.Day)}&end_time={Unix(UsageApiFixture.Day.AddDays(1))}";
        var (_, _, usageCsv) = await GetAsync($"/v1/organization/usage/completions?{range}&group_by=model&format=csv");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/organization/costs?{range}&group_by=line_item", UriKind.Relative));
        request.Headers.Authorization = new("Bearer", UsageApiFixture.AdminKey);
        request.Headers.Accept.ParseAdd("text/csv");
        using var costs = await Gateway.Http.SendAsync(request);
        var costsCsv = await costs.Content.ReadAsStringAsync();
        var (_, _, export) = await GetAsync($"/v1/organization/usage/export?{range}");

        Assert.Equal(
            "start_time,end_time,project_id,api_key_id,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens\r\n" +
            "2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,m1,2,200,80,20\r\n" +
            "2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,m2,1,100,40,10\r\n",
            usageCsv);
        Assert.Equal("text/csv", costs.Content.Headers.ContentType?.MediaType);
        Assert.Contains("line_item", costsCsv.Split("\r\n")[0], StringComparison.Ordinal);
        Assert.Contains(",idle capacity,,,,19.125\r\n", costsCsv, StringComparison.Ordinal);
        var lines = export.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("request_id,timestamp,project_id", lines[0], StringComparison.Ordinal);
        Assert.Equal(["seed-1", "seed-2", "seed-3"], lines.Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public async Task Usage_ConcurrentOpenAiClientsWithCancellations_SumsEqualWhatClientsReceived()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var client = new OpenAIClient(new ApiKeyCredential(fixture.RedKey), new OpenAIClientOptions { Endpoint = new Uri(Gateway.Http.BaseAddress!, "/v1") })
            .GetChatClient(GatewayHost.InstructModel);
        ChatMessage[] shared = [new SystemChatMessage("You are a terse assistant that answers in a few words only."), new UserChatMessage("Name a colour.")];
        // One first, alone: its prompt is then cached, so the concurrent ones below have cache hits.
        var warm = (await client.CompleteChatAsync(shared, new ChatCompletionOptions { MaxOutputTokenCount = 2 })).Value.Usage;
        long input = warm.InputTokenCount, output = warm.OutputTokenCount, cached = warm.InputTokenDetails?.CachedTokenCount ?? 0;
        var requests = 1;
        await Parallel.ForAsync(0, 12, async (i, _) =>
        {
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 4 + (i % 5), Temperature = 0 };
            if (i % 4 == 3)
            {
                // Cancelled mid-stream: what it used is metered, but no client saw its usage; counted from the ledger below.
                using var cts = new CancellationTokenSource();
                try
                {
                    await foreach (var update in client.CompleteChatStreamingAsync(shared, new ChatCompletionOptions { MaxOutputTokenCount = 400 }, cts.Token))
                    {
                        await cts.CancelAsync();
                    }
                }
                catch (OperationCanceledException)
                {
                }

                return;
            }

            ChatTokenUsage usage;
            if (i % 2 == 0)
            {
                usage = (await client.CompleteChatAsync(shared, options)).Value.Usage;
            }
            else
            {
                ChatTokenUsage? last = null;
                await foreach (var update in client.CompleteChatStreamingAsync(shared, options))
                {
                    last = update.Usage ?? last;
                }

                usage = last!;
            }

            Interlocked.Add(ref input, usage.InputTokenCount);
            Interlocked.Add(ref output, usage.OutputTokenCount);
            Interlocked.Add(ref cached, usage.InputTokenDetails?.CachedTokenCount ?? 0);
            Interlocked.Increment(ref requests);
        });

        // A cancelled request's record is written after its client left: wait (bounded) for all of them.
        var path = $"/v1/organization/usage/completions?start_time={Unix(since)}&bucket_width=1h&project_ids=red";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var (status, body, _) = await GetAsync(path);
        while (body!["data"]!.AsArray().SelectMany(b => b!["results"]!.AsArray()).Sum(r => (long)r!["num_model_requests"]!) < requests + 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            (status, body, _) = await GetAsync(path);
        }

        var records = await Gateway.UsageStore.QueryAsync(new UsageQuery { Team = "red", Since = since, Limit = 1000 }, CancellationToken.None);
        var cancelled = records.Where(r => r.Outcome == UsageOutcome.Cancelled).ToList();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, cancelled.Count);
        Assert.True(cached > 0); // the shared prefix was served from the cache
        var sums = body!["data"]!.AsArray().SelectMany(b => b!["results"]!.AsArray()).ToList();
        Assert.Equal(input + cancelled.Sum(r => r.PromptTokens), sums.Sum(r => (long)r!["input_tokens"]!));
        Assert.Equal(output + cancelled.Sum(r => r.CompletionTokens), sums.Sum(r => (long)r!["output_tokens"]!));
        Assert.Equal(cached + cancelled.Sum(r => r.CachedTokens), sums.Sum(r => (long)r!["input_cached_tokens"]!));
        Assert.Equal(requests + 3, sums.Sum(r => (long)r!["num_model_requests"]!));
    }
}

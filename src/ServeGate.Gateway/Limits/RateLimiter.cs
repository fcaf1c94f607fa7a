using System.Globalization;
using Microsoft.Extensions.Options;
using ServeGate.Core.Limits;
using ServeGate.Gateway.Auth;
using ServeGate.Gateway.Metering;
using ServeGate.Gateway.Pipeline;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Limits;

/// <summary>What was reserved for a request, to be settled with its actual usage.</summary>
internal sealed record LimitReservation(IReadOnlyList<CounterAdd> Tokens, IReadOnlyList<CounterAdd> Spend, long ReservedTokens, long ReservedMicroUsd);

/// <summary>The answer to a reservation: allowed or not, and what to tell the client in <c>x-ratelimit-*</c> headers.</summary>
internal sealed record LimitDecision(bool Allowed, LimitReservation? Reservation, string? Refusal, bool Budget, TimeSpan RetryAfter, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// Turns a key's and its team's limits into counters (requests and tokens per minute, micro-USD per day or month),
/// reserves the request's estimate (prompt bytes / 4 + max_tokens) before it runs, and settles the difference with the
/// actual usage after (<see cref="IUsageObserver"/>), so a limit is overshot by at most one request's error.
/// </summary>
internal sealed class RateLimiter(IRateLimitStore store, IOptions<GatewayOptions> options, TimeProvider time, SettlementSpool? spool = null) : IUsageObserver
{
    private static readonly TimeSpan MinuteTtl = TimeSpan.FromMinutes(2);

    public async ValueTask<LimitDecision?> ReserveAsync(ApiKey key, GatewayRequest request, CancellationToken cancellationToken)
    {
        var gateway = options.Value;
        var team = gateway.Teams.GetValueOrDefault(key.Team);
        var scopes = new List<(string Scope, int? Rpm, int? Tpm, decimal? Budget, BudgetPeriod Period)>(2)
        {
            ($"key:{key.Id}", key.RequestsPerMinute, key.TokensPerMinute, key.BudgetUsd, key.BudgetPeriod),
        };
        if (team is not null)
        {
            scopes.Add(($"team:{key.Team}", team.RequestsPerMinute, team.TokensPerMinute, team.BudgetUsd, team.BudgetPeriod));
        }

        scopes.RemoveAll(s => s.Rpm is null && s.Tpm is null && s.Budget is null);
        if (scopes.Count == 0)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var minute = (now.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture);
        var promptEstimate = (int)Math.Min(int.MaxValue / 2, request.BodyBytes / 4);
        var outputEstimate = request.MaxTokens ?? gateway.Limits.DefaultMaxTokensEstimate;
        long tokens = promptEstimate + outputEstimate;
        var microUsd = (long)Math.Ceiling((gateway.PriceOf(request.Model)?.Cost(promptEstimate, 0, outputEstimate) ?? 0m) * 1_000_000m);
        var prefix = gateway.Limits.KeyPrefix;
        var adds = new List<CounterAdd>();
        var kinds = new List<(string Kind, string Scope, TimeSpan Reset)>();
        var minuteReset = TimeSpan.FromSeconds(60 - (now.ToUnixTimeSeconds() % 60));
        foreach (var s in scopes)
        {
            if (s.Rpm is { } rpm)
            {
                adds.Add(new CounterAdd($"{prefix}rl:{s.Scope}:req:{minute}", 1, rpm, MinuteTtl));
                kinds.Add(("requests", s.Scope, minuteReset));
            }

            if (s.Tpm is { } tpm)
            {
                adds.Add(new CounterAdd($"{prefix}rl:{s.Scope}:tok:{minute}", tokens, tpm, MinuteTtl));
                kinds.Add(("tokens", s.Scope, minuteReset));
            }

            if (s.Budget is { } budget)
            {
                var (window, reset, ttl) = BudgetWindow(now, s.Period);
                adds.Add(new CounterAdd($"{prefix}rl:{s.Scope}:usd:{window}", microUsd, (long)(budget * 1_000_000m), ttl));
                kinds.Add(("budget", s.Scope, reset));
            }
        }

        var result = await store.TryAddAllAsync(adds, cancellationToken).ConfigureAwait(false);
        var headers = Headers(adds, kinds, result.Values, result.Allowed ? -1 : result.RefusedIndex);
        if (!result.Allowed)
        {
            var (kind, scope, reset) = kinds[result.RefusedIndex];
            var who = scope.StartsWith("team:", StringComparison.Ordinal) ? $"team '{key.Team}'" : "this API key";
            var message = kind switch
            {
                "requests" => $"Rate limit reached for {who}: {adds[result.RefusedIndex].Limit} requests per minute. Retry after {Seconds(reset)} s.",
                "tokens" => $"Rate limit reached for {who}: {adds[result.RefusedIndex].Limit} tokens per minute (this request reserves {tokens}). Retry after {Seconds(reset)} s.",
                _ => $"The USD budget of {who} is spent for this period. It resets in {Seconds(reset)} s.",
            };
            return new LimitDecision(false, null, message, kind == "budget", reset, headers);
        }

        var reservation = new LimitReservation(
            [.. adds.Where(a => a.Key.Contains(":tok:", StringComparison.Ordinal))],
            [.. adds.Where(a => a.Key.Contains(":usd:", StringComparison.Ordinal))],
            tokens,
            microUsd);
        return new LimitDecision(true, reservation, null, false, TimeSpan.Zero, headers);
    }

    /// <summary>Settles the reservation with the actual tokens and cost.</summary>
    public async ValueTask OnUsageAsync(GatewayRequest request, UsageRecord record)
    {
        if (request.Reservation is not LimitReservation reservation)
        {
            return;
        }

        var tokenDelta = record.PromptTokens + record.CompletionTokens - reservation.ReservedTokens;
        var spendDelta = (long)Math.Ceiling(record.CostUsd * 1_000_000m) - reservation.ReservedMicroUsd;
        var adds = reservation.Tokens.Select(a => a with { Amount = tokenDelta, Limit = -1 })
            .Concat(reservation.Spend.Select(a => a with { Amount = spendDelta, Limit = -1 }))
            .Where(a => a.Amount != 0)
            .ToList();
        if (adds.Count == 0)
        {
            return;
        }

        try
        {
            await store.AddAsync(adds, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RateLimitStoreUnavailableException) when (spool is not null)
        {
            await spool.AppendAsync(adds).ConfigureAwait(false); // replayed when the store is back
        }
    }

    private static Dictionary<string, string> Headers(List<CounterAdd> adds, List<(string Kind, string Scope, TimeSpan Reset)> kinds, IReadOnlyList<long> values, int refused)
    {
        // Like OpenAI's: the first (the key's, else the team's) requests and tokens limits.
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kind in new[] { "requests", "tokens" })
        {
            var i = kinds.FindIndex(k => k.Kind == kind);
            if (i < 0)
            {
                continue;
            }

            var used = i == refused ? values[i] : values[i];
            headers[$"x-ratelimit-limit-{kind}"] = adds[i].Limit.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-remaining-{kind}"] = Math.Max(0, adds[i].Limit - used).ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-reset-{kind}"] = Seconds(kinds[i].Reset).ToString(CultureInfo.InvariantCulture) + "s";
        }

        return headers;
    }

    private static long Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));

    private static (string Window, TimeSpan Reset, TimeSpan Ttl) BudgetWindow(DateTimeOffset now, BudgetPeriod period)
    {
        var utc = now.UtcDateTime;
        if (period == BudgetPeriod.Day)
        {
            var next = utc.Date.AddDays(1);
            return (utc.ToString("yyyyMMdd", CultureInfo.InvariantCulture), next - utc, TimeSpan.FromDays(2));
        }

        var nextMonth = new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        return (utc.ToString("yyyyMM", CultureInfo.InvariantCulture), nextMonth - utc, TimeSpan.FromDays(32));
    }
}

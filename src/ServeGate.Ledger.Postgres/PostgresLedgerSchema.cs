namespace ServeGate.Ledger.Postgres;

/// <summary>
/// The ledger's tables, created if missing under a transaction-scoped advisory lock, so gateways that start at once
/// do not race on the catalog (concurrent <c>CREATE TABLE IF NOT EXISTS</c> can fail with a unique violation).
/// The rollups (<c>usage_hourly</c>, <c>usage_daily</c>) hold the sums of the raw rows per UTC hour or day and every
/// grouping at once; unpriced records have '' as their pool and checkpoint there.
/// </summary>
internal static class PostgresLedgerSchema
{
    /// <summary>The rollups, coarsest first: an aggregate whose bucket width is a multiple of a rollup's unit reads it.</summary>
    public static readonly (string Table, string TimeColumn, string Unit, long Seconds)[] Rollups =
    [
        ("usage_daily", "day", "day", 86_400),
        ("usage_hourly", "hour", "hour", 3_600),
    ];

    /// <summary>The session's staging table an append copies its batch into; emptied at every commit.</summary>
    public const string Stage = "usage_stage";

    /// <summary>
    /// Creates the staging table in the session if missing, in the append's own transaction (so it holds behind a
    /// transaction-mode pooler too). Temporary: not logged, not shared, never migrated.
    /// </summary>
    public const string StageDdl = $"CREATE TEMPORARY TABLE IF NOT EXISTS {Stage} (LIKE usage) ON COMMIT DELETE ROWS";

    // The advisory lock's key is "SGLedger" as ASCII (0x53474C6564676572).
    public static readonly string Ddl = $"""
        SELECT pg_advisory_xact_lock(6000849026854380914);
        CREATE TABLE IF NOT EXISTS usage (
          request_id text PRIMARY KEY,
          ts timestamptz NOT NULL,
          key_id text NOT NULL,
          team text NOT NULL,
          model text NOT NULL,
          worker text NOT NULL,
          endpoint text NOT NULL,
          stream boolean NOT NULL,
          prompt_tokens integer NOT NULL,
          cached_tokens integer NOT NULL,
          completion_tokens integer NOT NULL,
          estimated boolean NOT NULL,
          compute_seconds double precision NOT NULL,
          latency_ms double precision NOT NULL,
          ttft_ms double precision,
          queue_ms double precision,
          http_status integer NOT NULL,
          outcome text NOT NULL,
          finish_reason text,
          cost_usd numeric NOT NULL,
          pool text,
          checkpoint text,
          hardware_usd_per_hour numeric,
          inference_cost_usd numeric,
          cache_savings_usd numeric,
          training_usd_per_token numeric,
          training_share_usd numeric,
          list_price_reference text,
          list_input_usd_per_million numeric,
          list_cached_input_usd_per_million numeric,
          list_output_usd_per_million numeric,
          list_price_usd numeric);
        CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts);
        CREATE INDEX IF NOT EXISTS usage_key_ts ON usage (key_id, ts);
        CREATE INDEX IF NOT EXISTS usage_team_ts ON usage (team, ts);
        {string.Concat(Rollups.Select(RollupTable))}
        CREATE TABLE IF NOT EXISTS pool_uptime (
          pool text NOT NULL,
          instance_id text NOT NULL,
          start_ts timestamptz NOT NULL,
          end_ts timestamptz NOT NULL,
          hardware_usd_per_hour numeric NOT NULL,
          PRIMARY KEY (pool, instance_id));
        CREATE INDEX IF NOT EXISTS pool_uptime_end ON pool_uptime (end_ts);
        """;

    private static string RollupTable((string Table, string TimeColumn, string Unit, long Seconds) rollup) => $"""
        CREATE TABLE IF NOT EXISTS {rollup.Table} (
          {rollup.TimeColumn} timestamptz NOT NULL,
          model text NOT NULL,
          key_id text NOT NULL,
          team text NOT NULL,
          checkpoint text NOT NULL,
          pool text NOT NULL,
          requests bigint NOT NULL,
          input_tokens bigint NOT NULL,
          cached_tokens bigint NOT NULL,
          output_tokens bigint NOT NULL,
          compute_seconds double precision NOT NULL,
          cost_usd numeric NOT NULL,
          inference_cost_usd numeric NOT NULL,
          cache_savings_usd numeric NOT NULL,
          training_share_usd numeric NOT NULL,
          list_price_usd numeric NOT NULL,
          PRIMARY KEY ({rollup.TimeColumn}, model, key_id, team, checkpoint, pool));
        """;
}

using System.Text.Json.Serialization;

namespace ServeGate.Ledger;

/// <summary>The spool's line format: a usage record as JSON (snake_case, like the admin API shows it).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(UsageRecord))]
internal sealed partial class LedgerJsonContext : JsonSerializerContext;

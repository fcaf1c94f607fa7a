using System.Text.Json.Serialization;

namespace ServeGate.Economics.Reports;

/// <summary>The report on the wire (<c>GET /v1/economics</c>): snake_case, like the rest of the API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EconomicsReport))]
public sealed partial class EconomicsJsonContext : JsonSerializerContext;

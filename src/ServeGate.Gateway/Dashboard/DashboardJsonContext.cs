using System.Text.Json.Serialization;

namespace ServeGate.Gateway.Dashboard;

/// <summary>Source-generated serializer for what the pages' server side writes (their import maps).</summary>
[JsonSerializable(typeof(ImportMap))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;

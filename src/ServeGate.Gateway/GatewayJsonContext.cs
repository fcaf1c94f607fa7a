using System.Text.Json.Serialization;
using ServeGate.Gateway.Admin;
using ServeGate.Gateway.Auth;
using ServeGate.Ledger;

namespace ServeGate.Gateway;

/// <summary>Source-generated serializers for the gateway's own payloads (admin and usage API), snake_case like OpenAI's.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(UsageList))]
[JsonSerializable(typeof(ServeGate.Gateway.Reports.CompletionsUsagePage))]
[JsonSerializable(typeof(ServeGate.Gateway.Reports.CostsPage))]
[JsonSerializable(typeof(KeyList))]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(StoredApiKey))]
[JsonSerializable(typeof(WorkerEndpoint))]
[JsonSerializable(typeof(WorkerView))]
[JsonSerializable(typeof(WorkerList))]
[JsonSerializable(typeof(ServeGate.Core.Limits.CounterAdd[]))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;

using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ServeGate.Worker.Api.Responses;

/// <summary>Source-generated serializers for the JSON trees the Responses translation reads and writes.</summary>
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
internal sealed partial class ResponsesJsonContext : JsonSerializerContext;

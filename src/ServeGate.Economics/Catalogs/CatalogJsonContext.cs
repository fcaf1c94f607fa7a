using System.Text.Json.Serialization;

namespace ServeGate.Economics.Catalogs;

/// <summary>The catalogs' files (snake_case, comments allowed: the files say where each figure comes from).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(Dictionary<string, ListPrice>))]
[JsonSerializable(typeof(Dictionary<string, TrainingEstimate>))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;

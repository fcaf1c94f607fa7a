// AI SDK: structured output from a zod schema, both ways the SDK offers it: generateObject and generateText with
// Output.object (each a Responses request with text.format json_schema); each result is validated against the schema.
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, Output } from "ai";
import { z } from "zod";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });
const city = z.object({
  name: z.string().max(8),
  size: z.enum(["small", "large"]),
  capital: z.boolean(),
  floors: z.number().int().nonnegative(), // zod writes minimum 0, maximum 2^53 - 1
});
await run(async () => {
  const generated = await generateObject({ model: openai(model), schema: city, prompt: "Describe a city.", maxOutputTokens: 96 });
  const viaOutput = await generateText({ model: openai(model), output: Output.object({ schema: city }), prompt: "Describe a city.", maxOutputTokens: 96 });
  return {
    object: city.parse(generated.object),
    objectUsage: generated.usage,
    output: city.parse(viaOutput.output),
  };
});

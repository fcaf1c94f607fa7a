// LangChain: withStructuredOutput(zod schema) with its default method (jsonSchema: response_format json_schema) and
// with functionCalling (a forced call to a function named after the schema); each result validated against the schema.
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const chat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 96, configuration: { baseURL: apiBase, fetch: recordingFetch } });
const city = z.object({
  name: z.string().max(8),
  size: z.enum(["small", "large"]),
  capital: z.boolean(),
  floors: z.number().int().nonnegative(), // zod writes minimum 0, maximum 2^53 - 1
}).describe("A city");
await run(async () => {
  const byDefault = await chat.withStructuredOutput(city).invoke("Describe a city.");
  const byFunction = await chat.withStructuredOutput(city, { name: "city", method: "functionCalling" }).invoke("Describe a city.");
  return { jsonSchema: city.parse(byDefault), functionCalling: city.parse(byFunction) };
});

// LangChain: withStructuredOutput(zod schema) with its default method (jsonSchema: response_format json_schema) and
// with functionCalling (a forced call to a function named after the schema); each result validated against the schema.
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const chat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 96, configuration: { baseURL: apiBase, fetch: recordingFetch } });
const city = z.object({
  name: z.string().max(12),
  size: z.enum(["small", "large"]),
  capital: z.boolean(),
  tags: z.array(z.string().max(6)).max(2),
}).describe("A city");
await run(async () => {
  const byDefault = await chat.withStructuredOutput(city).invoke("Describe a city.");
  const byFunction = await chat.withStructuredOutput(city, { name: "city", method: "functionCalling" }).invoke("Describe a city.");
  return { jsonSchema: city.parse(byDefault), functionCalling: city.parse(byFunction) };
});

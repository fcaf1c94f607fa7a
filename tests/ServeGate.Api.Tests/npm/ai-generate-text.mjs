// AI SDK: generateText with the default provider model, openai(id): the Responses API in @ai-sdk/openai 4.x.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText } from "ai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });
await run(async () => {
  const result = await generateText({ model: openai(model), system: "Be brief.", prompt: "Hello", maxOutputTokens: 8 });
  return { text: result.text, finishReason: result.finishReason, usage: result.usage, warnings: result.warnings };
});

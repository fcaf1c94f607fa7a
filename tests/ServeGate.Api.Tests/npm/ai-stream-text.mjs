// AI SDK: streamText with the default provider model (Responses API events), counting the text deltas.
import { createOpenAI } from "@ai-sdk/openai";
import { streamText } from "ai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });
await run(async () => {
  let streamError;
  const result = streamText({ model: openai(model), prompt: "Hello", maxOutputTokens: 16, onError: ({ error }) => { streamError = error; } });
  let deltas = 0;
  let text = "";
  for await (const delta of result.textStream) {
    deltas++;
    text += delta;
  }
  if (streamError) {
    throw streamError;
  }
  return { deltas, text, finishReason: await result.finishReason, usage: await result.usage, warnings: await result.warnings };
});

// LangChain: ChatOpenAI.stream with its defaults (stream_options.include_usage: usage arrives on the last chunk).
import { ChatOpenAI } from "@langchain/openai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const chat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 16, configuration: { baseURL: apiBase, fetch: recordingFetch } });
await run(async () => {
  let deltas = 0;
  let full;
  for await (const chunk of await chat.stream("Hello")) {
    if (typeof chunk.content === "string" && chunk.content.length > 0) {
      deltas++;
    }
    full = full === undefined ? chunk : full.concat(chunk);
  }
  return { deltas, content: full.content, usage: full.usage_metadata };
});

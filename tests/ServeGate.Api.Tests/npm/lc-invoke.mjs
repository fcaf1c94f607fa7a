// LangChain: ChatOpenAI.invoke with its defaults (chat completions for a model id that is not OpenAI's).
import { ChatOpenAI } from "@langchain/openai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const chat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 8, configuration: { baseURL: apiBase, fetch: recordingFetch } });
await run(async () => {
  const message = await chat.invoke([["system", "Be brief."], ["human", "Hello"]]);
  return { content: message.content, usage: message.usage_metadata, finishReason: message.response_metadata.finish_reason };
});

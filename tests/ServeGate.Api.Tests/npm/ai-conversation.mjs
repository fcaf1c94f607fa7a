// AI SDK: a conversation of three turns (generateText twice, then streamText), each turn's response messages sent back
// with the next user message, as a chat app does. With its default (it assumes OpenAI's store: true) the SDK refers to
// its earlier answer by item id, which ServeGate, keeping no responses, refuses; with store: false it sends the text.
import { createOpenAI } from "@ai-sdk/openai";
import { APICallError, generateText, streamText } from "ai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });

async function converse(providerOptions) {
  const messages = [{ role: "user", content: "Hello" }];
  const first = await generateText({ model: openai(model), messages, maxOutputTokens: 4, providerOptions });
  messages.push(...first.response.messages, { role: "user", content: "And then?" });
  try {
    const second = await generateText({ model: openai(model), messages, maxOutputTokens: 4, providerOptions });
    messages.push(...second.response.messages, { role: "user", content: "And streamed?" });
  } catch (error) {
    if (!APICallError.isInstance(error)) {
      throw error;
    }
    return { secondTurn: { status: error.statusCode, error: JSON.parse(error.responseBody).error } };
  }
  let streamError;
  const third = streamText({ model: openai(model), messages, maxOutputTokens: 4, providerOptions, onError: ({ error }) => { streamError = error; } });
  let deltas = 0;
  for await (const _ of third.textStream) {
    deltas++;
  }
  if (streamError) {
    throw streamError;
  }
  return { secondTurn: { status: 200 }, thirdTurn: { deltas, usage: await third.usage } };
}

await run(async () => ({
  defaultStore: await converse(undefined),
  storeFalse: await converse({ openai: { store: false } }),
}));

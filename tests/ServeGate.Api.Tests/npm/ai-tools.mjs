// AI SDK: a tool call round trip with generateText, as an app's loop does it: the first call is forced to call the
// tool (random-weight models would not choose to), the SDK runs it, and its response messages (function_call and
// function_call_output items) go back with the tools in the next call.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, tool } from "ai";
import { z } from "zod";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });
const weatherInput = z.object({ city: z.enum(["Paris", "Oslo"]) });
const executed = [];
const weather = tool({
  description: "The weather in a city now.",
  inputSchema: weatherInput,
  execute: async (input) => {
    executed.push(weatherInput.parse(input));
    return { temperature: 21 };
  },
});
await run(async () => {
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  // Room for the whole call even one character per token: the grammar ends generation after it.
  const call = await generateText({ model: openai(model), tools: { weather }, toolChoice: { type: "tool", toolName: "weather" }, messages, maxOutputTokens: 96 });
  messages.push(...call.response.messages);
  const answer = await generateText({ model: openai(model), tools: { weather }, messages, maxOutputTokens: 8 });
  return {
    executed,
    toolCalls: call.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input })),
    finishReason: call.finishReason,
    toolResults: call.toolResults.map((r) => ({ toolName: r.toolName, output: r.output })),
    sentBack: messages.map((m) => m.role),
    answerUsage: answer.usage,
  };
});

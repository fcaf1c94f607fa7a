// LangChain: bindTools with a forced call (tool_choice naming the tool), the tool run, and its result sent back in a
// ToolMessage for the model's next turn.
import { ToolMessage, HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

// Room for the whole call even one character per token (the grammar ends generation after it); a short answer after.
const chat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 96, configuration: { baseURL: apiBase, fetch: recordingFetch } });
const answerChat = new ChatOpenAI({ model, apiKey: "unused", maxTokens: 8, configuration: { baseURL: apiBase, fetch: recordingFetch } });
const weatherInput = z.object({ city: z.enum(["Paris", "Oslo"]) });
const weather = tool(async ({ city }) => JSON.stringify({ city, temperature: 21 }), {
  name: "weather",
  description: "The weather in a city now.",
  schema: weatherInput,
});
await run(async () => {
  const messages = [new HumanMessage("Weather in Paris?")];
  const call = await chat.bindTools([weather], { tool_choice: "weather" }).invoke(messages);
  const toolCall = call.tool_calls[0];
  const args = weatherInput.parse(toolCall.args);
  messages.push(call, new ToolMessage({ tool_call_id: toolCall.id, content: await weather.invoke(args) }));
  const answer = await answerChat.bindTools([weather]).invoke(messages);
  return {
    toolCalls: call.tool_calls.map((c) => ({ name: c.name, args: c.args, hasId: typeof c.id === "string" && c.id.length > 0 })),
    invalidToolCalls: call.invalid_tool_calls.length,
    finishReason: call.response_metadata.finish_reason,
    answerUsage: answer.usage_metadata,
  };
});

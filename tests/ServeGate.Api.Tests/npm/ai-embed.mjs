// AI SDK: embed and embedMany with the provider's embedding model (POST /v1/embeddings).
import { createOpenAI } from "@ai-sdk/openai";
import { embed, embedMany } from "ai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const openai = createOpenAI({ baseURL: apiBase, apiKey: "unused", fetch: recordingFetch });
await run(async () => {
  const one = await embed({ model: openai.embedding(model), value: "first text" });
  const many = await embedMany({ model: openai.embedding(model), values: ["first text", "second text", "third"] });
  return {
    dimension: one.embedding.length,
    usage: one.usage,
    manyDimensions: many.embeddings.map((e) => e.length),
    manyUsage: many.usage,
    sameAsMany: one.embedding.every((x, i) => Math.abs(x - many.embeddings[0][i]) < 1e-4),
  };
});

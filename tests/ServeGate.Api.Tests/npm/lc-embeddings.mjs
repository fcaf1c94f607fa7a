// LangChain: OpenAIEmbeddings.embedQuery and embedDocuments with their defaults.
import { OpenAIEmbeddings } from "@langchain/openai";
import { apiBase, model, recordingFetch, run } from "./common.mjs";

const embeddings = new OpenAIEmbeddings({ model, apiKey: "unused", configuration: { baseURL: apiBase, fetch: recordingFetch } });
await run(async () => {
  const query = await embeddings.embedQuery("first text");
  const documents = await embeddings.embedDocuments(["first text", "second text", "third"]);
  return {
    dimension: query.length,
    documentDimensions: documents.map((d) => d.length),
    sameAsDocument: query.every((x, i) => Math.abs(x - documents[0][i]) < 1e-4),
  };
});

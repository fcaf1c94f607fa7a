// Shared by the scenario scripts: the gateway's address and model from the command line, a fetch that records what the
// client library sent (path and top-level fields, never the prompt text), and one JSON line of results on stdout.
//   node <scenario>.mjs <gatewayBaseUrl> <model>        (SERVEGATE_LOG_BODIES=1 also prints each request body to stderr)

export const [baseUrl, model] = process.argv.slice(2);
if (!baseUrl || !model) {
  console.error("usage: node <scenario>.mjs <gatewayBaseUrl> <model>");
  process.exit(2);
}

/** The OpenAI base URL the client libraries take (ServeGate serves the API under /v1). */
export const apiBase = new URL("/v1", baseUrl).toString();

/** Every request the library made: method, path, status and the request body's field names. */
export const requests = [];

/** A fetch for the libraries' `fetch` option that records each request in `requests`. */
export async function recordingFetch(input, init) {
  const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  let fields = [];
  if (typeof init?.body === "string") {
    const body = JSON.parse(init.body);
    fields = Object.keys(body).sort();
    if (process.env.SERVEGATE_LOG_BODIES === "1") {
      console.error(`${init.method ?? "GET"} ${url.pathname} ${init.body}`);
    }
  }
  const response = await fetch(input, init);
  requests.push({ method: init?.method ?? "GET", path: url.pathname, status: response.status, fields });
  if (!response.ok && process.env.SERVEGATE_LOG_BODIES === "1") {
    console.error(`${response.status} ${await response.clone().text()}`);
  }
  return response;
}

/** Runs a scenario and prints {ok: true, ...its results, requests} or {ok: false, error, requests} as one JSON line. */
export async function run(scenario) {
  try {
    const result = await scenario();
    console.log(JSON.stringify({ ok: true, ...result, requests }));
  } catch (error) {
    const detail = { name: error?.name, message: String(error?.message ?? error), status: error?.statusCode ?? error?.status };
    if (error?.responseBody) {
      detail.responseBody = error.responseBody;
    }
    console.log(JSON.stringify({ ok: false, error: detail, requests }));
    process.exitCode = 1;
  }
}

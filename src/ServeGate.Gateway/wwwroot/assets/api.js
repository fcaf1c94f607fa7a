// The pages' one data layer: every API call, and every API field name the pages read, is here. The other modules see
// plain objects (numbers, or null where the API said nothing) and never the API's JSON. To follow a renamed field,
// change its entry in FIELDS below.

const KEY_STORAGE = 'servegate.apiKey';

/** Where each figure is read from; the first path present wins. A path is dot-separated. */
export const FIELDS = {
  usage: {
    inputTokens: ['input_tokens'],
    outputTokens: ['output_tokens'],
    cachedTokens: ['input_cached_tokens'],
    requests: ['num_model_requests'],
    model: ['model'],
    apiKey: ['api_key_id'],
    team: ['project_id'],
  },
  cost: {
    amount: ['amount.value'],
    currency: ['amount.currency'],
    lineItem: ['line_item'],
    model: ['model'],
    team: ['project_id'],
    apiKey: ['api_key_id'],
  },
  // One row of /v1/economics per variant (model). The rows are found under `models`, `variants`, `data`, or each
  // checkpoint's `variants` (see economicsRows).
  economics: {
    model: ['model', 'id'],
    checkpoint: ['checkpoint', 'checkpoint_id'],
    kind: ['kind'],
    tokens: ['tokens', 'total_tokens'],
    computeSeconds: ['compute_seconds'],
    hardwareUsdPerHour: ['hardware_usd_per_hour', 'pool.hardware_usd_per_hour'],
    inferenceCostUsd: ['inference_cost_usd'],
    idleCostUsd: ['idle_cost_usd'],
    trainingCostUsd: ['training_cost_usd'],
    pretrainingCostUsd: ['pretraining_share_usd', 'pretraining_cost_usd'],
    postTrainingCostUsd: ['post_training_cost_usd'],
    amortizedTrainingUsd: ['amortized_training_usd'],
    trainingUsdPerToken: ['training_usd_per_token'],
    listPriceUsd: ['list_price_usd'],
    cacheSavingsUsd: ['cache_savings_usd'],
    breakEven: ['break_even'],
    busyPer1M: ['usd_per_million_tokens_busy'],
    withIdlePer1M: ['usd_per_million_tokens_with_idle'],
    listPer1M: ['usd_per_million_tokens_list_price'],
    listPriceName: ['list_price_reference'],
  },
  pool: {
    name: ['pool', 'name', 'model'],
    utilization: ['utilization'],
    busySeconds: ['compute_seconds'],
    upSeconds: ['uptime_seconds'],
  },
  whatIf: {
    name: ['name', 'catalog_entry', 'entry', 'model'],
    trainingCostUsd: ['training_cost_usd', 'cost_usd'],
    breakEven: ['break_even'],
    source: ['source'],
  },
};

/** The value at the first of `paths` present in `object`, else null. */
export function pick(object, paths) {
  for (const path of paths) {
    let value = object;
    for (const part of path.split('.')) {
      value = value != null && typeof value === 'object' ? value[part] : undefined;
    }
    if (value !== undefined && value !== null) {
      return value;
    }
  }
  return null;
}

function num(object, paths) {
  const value = pick(object, paths);
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function str(object, paths) {
  const value = pick(object, paths);
  return value == null ? null : String(value);
}

const NUMERIC = new Set(['inputTokens', 'outputTokens', 'cachedTokens', 'requests', 'amount']);

function mapRow(object, fields) {
  const row = {};
  for (const [name, paths] of Object.entries(fields)) {
    row[name] = NUMERIC.has(name) ? num(object, paths) : str(object, paths);
  }
  return row;
}

// ---- Keys and requests ---------------------------------------------------------------------------------------------

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

let askForKey = async () => null;

/** Sets what asks the reader for a key when the API answers 401 (a small form; see auth.js). */
export function onKeyNeeded(ask) {
  askForKey = ask;
}

/** An API error with the server's message (the OpenAI error envelope) and status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch with the stored key as `Authorization: Bearer`; on 401 asks for a key and tries again. */
export async function apiFetch(path, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(init.headers || {});
    const key = storedKey();
    if (key) {
      headers.set('Authorization', `Bearer ${key}`);
    }
    const response = await fetch(path, { ...init, headers });
    if (response.status === 401 && attempt < 3) {
      const entered = await askForKey(key ? 'That key was refused. Enter another API key.' : 'This server needs an API key.');
      if (entered) {
        sessionStorage.setItem(KEY_STORAGE, entered);
        continue;
      }
    }
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        message = body?.error?.message || message;
      } catch {
        // not JSON: keep the status line
      }
      throw new ApiError(response.status, message);
    }
    return response;
  }
}

async function getJson(path) {
  return (await apiFetch(path)).json();
}

// ---- Usage and costs (OpenAI's organization Usage and Costs APIs) --------------------------------------------------

/**
 * The query string of a usage or costs request. `filters` is { start, end (Unix seconds), bucket ('1m'|'1h'|'1d'),
 * team, key, model }; `groupBy` is a list of fields.
 */
export function reportQuery(filters, groupBy = [], extra = {}) {
  const query = new URLSearchParams();
  query.set('start_time', String(filters.start));
  query.set('end_time', String(filters.end));
  query.set('bucket_width', filters.bucket);
  for (const field of groupBy) {
    query.append('group_by', field);
  }
  appendFilters(query, filters);
  for (const [name, value] of Object.entries(extra)) {
    query.set(name, value);
  }
  return query;
}

/** The team, key and model filters as the Usage API names them (project = ServeGate team). */
function appendFilters(query, filters) {
  if (filters.team) {
    query.append('project_ids', filters.team);
  }
  if (filters.key) {
    query.append('api_key_ids', filters.key);
  }
  if (filters.model) {
    query.append('models', filters.model);
  }
}

export const USAGE_PATH = '/v1/organization/usage/completions';
export const COSTS_PATH = '/v1/organization/costs';

/** The URL of the CSV behind a chart (the same query with format=csv). */
export function csvUrl(path, filters, groupBy) {
  return `${path}?${reportQuery(filters, groupBy, { format: 'csv' })}`;
}

/** Every bucket of a report, following next_page; each bucket is { start, end (ms), results: [mapped rows] }. */
async function report(path, filters, groupBy, fields) {
  const buckets = [];
  let page = null;
  for (let i = 0; i < 200; i++) {
    const query = reportQuery(filters, groupBy, { limit: String(bucketLimit(filters.bucket)) });
    if (page) {
      query.set('page', page);
    }
    const body = await getJson(`${path}?${query}`);
    for (const bucket of Array.isArray(body?.data) ? body.data : []) {
      buckets.push({
        start: (Number(bucket.start_time) || 0) * 1000,
        end: (Number(bucket.end_time) || 0) * 1000,
        results: (Array.isArray(bucket.results) ? bucket.results : []).map((r) => mapRow(r, fields)),
      });
    }
    page = body?.has_more ? body.next_page : null;
    if (!page) {
      break;
    }
  }
  return buckets.sort((a, b) => a.start - b.start);
}

/** The most buckets one page may hold for a width (OpenAI's limits). */
function bucketLimit(bucket) {
  return bucket === '1m' ? 1440 : bucket === '1h' ? 168 : 31;
}

export function usage(filters, groupBy = []) {
  return report(USAGE_PATH, filters, groupBy, FIELDS.usage);
}

export function costs(filters, groupBy = []) {
  return report(COSTS_PATH, filters, groupBy, FIELDS.cost);
}

/** True when a cost row is idle capacity (hardware paid for but not busy), false for busy inference. */
export function isIdleLineItem(lineItem) {
  return /idle/i.test(lineItem || '');
}

// ---- Economics -----------------------------------------------------------------------------------------------------

export const ECONOMICS_PATH = '/v1/economics';

/**
 * The query parameters of the dashboard's filters sent to /v1/economics. None: the break-even and amortization
 * figures are cumulative over the whole ledger (the API takes start_time/end_time, but a range would cut them), and
 * it scopes itself to the caller's team.
 */
export const ECONOMICS_PARAMS = [];

/**
 * /v1/economics as { variants: [row], pools: [pool], whatIf: [entry] }. A variant row has every FIELDS.economics name
 * (null where absent), plus breakEven as { date: Date|null, text }.
 */
export async function economics(filters) {
  const query = new URLSearchParams();
  if (filters) {
    const all = new URLSearchParams({ start_time: String(filters.start), end_time: String(filters.end) });
    appendFilters(all, filters);
    for (const [name, value] of all) {
      if (ECONOMICS_PARAMS.includes(name)) {
        query.append(name, value);
      }
    }
  }
  const body = await getJson(`${ECONOMICS_PATH}${query.size ? `?${query}` : ''}`);
  return normalizeEconomics(body);
}

export function normalizeEconomics(body) {
  const rows = [];
  const checkpoints = Array.isArray(body?.checkpoints) ? body.checkpoints : [];
  for (const checkpoint of checkpoints) {
    for (const variant of Array.isArray(checkpoint.variants) ? checkpoint.variants : []) {
      rows.push({ ...checkpoint, ...variant, checkpoint: variant.checkpoint ?? checkpoint.checkpoint ?? checkpoint.id });
    }
  }
  for (const list of [body?.models, body?.variants, body?.data]) {
    if (Array.isArray(list)) {
      rows.push(...list);
    }
  }
  const variants = rows.map((raw) => {
    const row = {};
    for (const [name, paths] of Object.entries(FIELDS.economics)) {
      row[name] = ['model', 'checkpoint', 'kind', 'listPriceName'].includes(name) ? str(raw, paths) : num(raw, paths);
    }
    row.breakEven = breakEvenOf(pick(raw, FIELDS.economics.breakEven));
    row.checkpoint = row.checkpoint || row.model;
    row.utilization = num(raw, ['utilization', 'pool.utilization']);
    return row;
  });

  const poolList = Array.isArray(body?.pools) ? body.pools : Array.isArray(body?.utilization) ? body.utilization : [];
  const pools = poolList.map((raw) => ({
    name: str(raw, FIELDS.pool.name),
    utilization: utilizationOf(raw),
  }));
  if (pools.length === 0) {
    for (const row of variants) {
      if (row.utilization != null) {
        pools.push({ name: row.model, utilization: row.utilization });
      }
    }
  }

  const whatIfRaw = body?.what_if ?? body?.whatIf ?? body?.what_ifs ?? [];
  const whatIf = (Array.isArray(whatIfRaw) ? whatIfRaw : [whatIfRaw]).filter((w) => w && typeof w === 'object').map((raw) => ({
    name: str(raw, FIELDS.whatIf.name),
    trainingCostUsd: num(raw, FIELDS.whatIf.trainingCostUsd),
    breakEven: breakEvenOf(pick(raw, FIELDS.whatIf.breakEven)),
    source: str(raw, FIELDS.whatIf.source),
    checkpoint: str(raw, ['checkpoint', 'against']),
  }));
  return { variants, pools, whatIf };
}

function utilizationOf(raw) {
  const value = num(raw, FIELDS.pool.utilization);
  if (value != null) {
    return value > 1 ? value / 100 : value;
  }
  const busy = num(raw, FIELDS.pool.busySeconds);
  const up = num(raw, FIELDS.pool.upSeconds);
  return busy != null && up ? busy / up : null;
}

/** A break-even as { date, text }: a date string or Unix seconds become a date; anything else is kept as text. */
export function breakEvenOf(value) {
  if (value == null) {
    return { date: null, text: null };
  }
  if (typeof value === 'object') {
    return breakEvenOf(value.date ?? value.summary ?? null);
  }
  if (typeof value === 'number') {
    return { date: new Date(value * 1000), text: null };
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
    return Number.isNaN(date.getTime()) ? { date: null, text: value } : { date, text: null };
  }
  return { date: null, text: value };
}

/** Training cost carried per token by a variant (its pretraining share plus its own post-training), or null. */
export function trainingUsdPerToken(variant) {
  if (!variant) {
    return null;
  }
  if (variant.trainingUsdPerToken != null) {
    return variant.trainingUsdPerToken;
  }
  if (variant.amortizedTrainingUsd != null && variant.tokens) {
    return variant.amortizedTrainingUsd / variant.tokens;
  }
  return null;
}

/** One request's inference cost: its attributed compute seconds at its pool's hardware price. */
export function requestInferenceUsd(computeSeconds, variant) {
  if (computeSeconds == null || variant?.hardwareUsdPerHour == null) {
    return null;
  }
  return computeSeconds * variant.hardwareUsdPerHour / 3600;
}

// ---- Models --------------------------------------------------------------------------------------------------------

/** /v1/models as [{ id, kind ('base'|'instruct') }]. */
export async function models() {
  const body = await getJson('/v1/models');
  return (Array.isArray(body?.data) ? body.data : []).map((m) => ({ id: String(m.id), kind: m.kind === 'base' ? 'base' : 'instruct' }));
}

// ---- Streaming completions (the compare page) ----------------------------------------------------------------------

/**
 * Streams one prompt to a model: a base model as /v1/completions, an instruct model as /v1/chat/completions. Calls
 * onText(text) for each piece of text; resolves to the final usage as { promptTokens, completionTokens, cachedTokens,
 * computeSeconds, serverTtftMs }.
 */
export async function streamCompletion({ model, kind, prompt, maxTokens, signal }, onText) {
  const chat = kind !== 'base';
  const body = chat
    ? { model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } }
    : { model, prompt, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } };
  const response = await apiFetch(chat ? '/v1/chat/completions' : '/v1/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let usageChunk = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      break;
    }
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith('data:')) {
        continue;
      }
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        continue;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(500, chunk.error.message || 'The stream ended with an error.');
      }
      for (const choice of chunk.choices || []) {
        const text = chat ? choice.delta?.content : choice.text;
        if (text) {
          onText(text);
        }
      }
      if (chunk.usage) {
        usageChunk = chunk.usage;
      }
    }
  }
  return {
    promptTokens: num(usageChunk, ['prompt_tokens']),
    completionTokens: num(usageChunk, ['completion_tokens']),
    cachedTokens: num(usageChunk, ['prompt_tokens_details.cached_tokens']),
    computeSeconds: num(usageChunk, ['servegate.compute_seconds']),
    serverTtftMs: num(usageChunk, ['servegate.time_to_first_token_ms']),
  };
}

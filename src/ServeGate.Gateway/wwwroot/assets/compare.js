// /compare: one prompt streamed at once to two models, with each request's tokens, speed and cost under its answer.
import * as api from '/assets/api.js';
import * as fmt from '/assets/format.js';
import { installKeyForm } from '/assets/auth.js';

const DEFAULTS = { left: 'servegate-demo-base', right: 'servegate-demo-instruct' };
const form = document.getElementById('prompt');
const status = document.getElementById('status');
let served = [];
let economics = null;

function card(side) {
  const element = document.getElementById(side);
  const figure = (name) => element.querySelector(`[data-figure="${name}"]`);
  return { element, answer: element.querySelector('[data-answer]'), figure };
}

function chooseDefaults() {
  const query = new URLSearchParams(location.search);
  for (const side of ['left', 'right']) {
    const select = form.elements[side];
    select.replaceChildren(...served.map((m) => new Option(`${m.id} (${m.kind})`, m.id)));
    const wanted = query.get(side) || DEFAULTS[side];
    const fallback = served.find((m) => m.kind === (side === 'left' ? 'base' : 'instruct')) ?? served[side === 'left' ? 0 : served.length - 1];
    select.value = served.some((m) => m.id === wanted) ? wanted : (fallback?.id ?? '');
  }
  showModels();
}

function showModels() {
  for (const side of ['left', 'right']) {
    const model = served.find((m) => m.id === form.elements[side].value);
    const { element } = card(side);
    element.querySelector('[data-model]').textContent = model?.id ?? fmt.DASH;
    element.querySelector('[data-kind]').textContent = model ? `${model.kind} · ${model.kind === 'base' ? '/v1/completions' : '/v1/chat/completions'}` : '';
  }
}

async function run(side, prompt, maxTokens) {
  const model = served.find((m) => m.id === form.elements[side].value);
  const { element, answer, figure } = card(side);
  element.dataset.state = 'streaming';
  answer.textContent = '';
  answer.classList.remove('error');
  for (const name of ['tokens', 'ttft', 'speed', 'inference-cost', 'training-cost']) {
    figure(name).textContent = fmt.DASH;
  }
  const started = performance.now();
  let first = null;
  try {
    const usage = await api.streamCompletion({ model: model.id, kind: model.kind, prompt, maxTokens }, (text) => {
      first ??= performance.now();
      answer.textContent += text;
    });
    const ended = performance.now();
    const variant = economics?.variants.find((v) => v.model === model.id);
    const generating = first != null && usage.completionTokens > 1 ? (ended - first) / 1000 : (ended - started) / 1000;
    figure('tokens').textContent = `${fmt.count(usage.promptTokens)} / ${fmt.count(usage.completionTokens)}`;
    figure('ttft').textContent = first != null ? `${fmt.count(first - started)} ms` : fmt.DASH;
    figure('speed').textContent = usage.completionTokens != null && generating > 0 ? fmt.decimal((first != null && usage.completionTokens > 1 ? usage.completionTokens - 1 : usage.completionTokens) / generating, ' tokens/s') : fmt.DASH;
    figure('inference-cost').textContent = fmt.money(api.requestInferenceUsd(usage.computeSeconds, variant));
    const perToken = api.trainingUsdPerToken(variant);
    const tokens = (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0);
    figure('training-cost').textContent = perToken == null ? fmt.DASH : fmt.money(perToken * tokens);
    figure('inference-cost').title = usage.computeSeconds != null ? `${fmt.decimal(usage.computeSeconds * 1000, ' ms')} of attributed compute` : '';
    element.dataset.state = 'done';
  } catch (error) {
    answer.textContent = error.message;
    answer.classList.add('error');
    element.dataset.state = 'failed';
  }
}

form.addEventListener('change', (event) => {
  if (event.target.name === 'left' || event.target.name === 'right') {
    const query = new URLSearchParams(location.search);
    query.set(event.target.name, event.target.value);
    history.replaceState(null, '', `${location.pathname}?${query}`);
    showModels();
  }
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const prompt = form.elements.prompt.value;
  const maxTokens = Number(form.elements.max_tokens.value) || 64;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  status.textContent = 'Streaming…';
  await Promise.all([run('left', prompt, maxTokens), run('right', prompt, maxTokens)]);
  button.disabled = false;
  status.textContent = economics ? '' : 'Costs need the economics API (/v1/economics), which this server does not answer.';
});

async function start() {
  installKeyForm();
  for (const side of ['left', 'right']) {
    document.getElementById(side).append(document.getElementById('column').content.cloneNode(true));
  }
  try {
    served = await api.models();
  } catch (error) {
    status.textContent = `Models: ${error.message}`;
    status.classList.add('error');
    return;
  }
  chooseDefaults();
  try {
    economics = await api.economics(null);
  } catch {
    economics = null;
  }
  document.body.dataset.state = 'ready';
}

start();

// /dashboard: the filters (kept in the URL), the totals and the charts, all from the usage, costs and economics APIs.
import * as api from '/assets/api.js';
import * as fmt from '/assets/format.js';
import { installKeyForm } from '/assets/auth.js';
import { axis, chartLibraryLoaded, colorOf, draw, logTicks, tooltip } from '/assets/charts.js';

const DAY = 86400;
const PRESETS = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY };
const FILTER_NAMES = ['range', 'from', 'to', 'team', 'key', 'model'];

const form = document.getElementById('filters');
const status = document.getElementById('status');
const modelColors = new Map();
let generation = 0;

function colorIndex(model) {
  if (!modelColors.has(model)) {
    modelColors.set(model, modelColors.size);
  }
  return modelColors.get(model);
}

// ---- Filters <-> URL -----------------------------------------------------------------------------------------------

function stateFromUrl() {
  const query = new URLSearchParams(location.search);
  const state = {};
  for (const name of FILTER_NAMES) {
    state[name] = query.get(name) || '';
  }
  if (!PRESETS[state.range] && state.range !== 'custom') {
    state.range = state.from && state.to ? 'custom' : '7d';
  }
  return state;
}

function writeUrl(state) {
  const query = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    if (state[name] && !(name === 'range' && state.range === '7d') && !((name === 'from' || name === 'to') && state.range !== 'custom')) {
      query.set(name, state[name]);
    }
  }
  const url = `${location.pathname}${query.size ? `?${query}` : ''}`;
  if (url !== `${location.pathname}${location.search}`) {
    history.pushState(null, '', url);
  }
}

function stateFromForm() {
  const data = new FormData(form);
  const state = {};
  for (const name of FILTER_NAMES) {
    state[name] = String(data.get(name) || '');
  }
  return state;
}

function ensureOption(select, value, label) {
  if (value && ![...select.options].some((o) => o.value === value)) {
    select.add(new Option(label ?? value, value));
  }
}

function showState(state) {
  for (const name of FILTER_NAMES) {
    const field = form.elements[name];
    if (field instanceof HTMLSelectElement) {
      ensureOption(field, state[name]);
    }
    field.value = state[name];
  }
  form.classList.toggle('is-custom', state.range === 'custom');
}

/** The API query of a state: Unix-second bounds aligned to the bucket width (hours for a day or less, else days). */
function queryOf(state) {
  const now = Math.floor(Date.now() / 1000);
  let start;
  let end;
  if (state.range === 'custom' && state.from && state.to) {
    start = Math.floor(Date.parse(`${state.from}T00:00:00Z`) / 1000);
    end = Math.floor(Date.parse(`${state.to}T00:00:00Z`) / 1000) + DAY;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
    const span = PRESETS[state.range] || PRESETS['7d'];
    const step = span <= DAY ? 3600 : DAY;
    end = Math.ceil((now + 1) / step) * step;
    start = end - span;
  }
  const bucket = end - start <= 2 * DAY ? '1h' : '1d';
  return { start, end, bucket, team: state.team, key: state.key, model: state.model };
}

// ---- Loading -------------------------------------------------------------------------------------------------------

async function settle(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

async function load() {
  const mine = ++generation;
  const state = stateFromUrl();
  showState(state);
  const filters = queryOf(state);
  status.textContent = 'Loading…';
  document.body.dataset.state = 'loading';

  const [costsByModel, usageByModel, usageByKey, usageByTeam, economics, models] = await Promise.all([
    settle(api.costs(filters, ['model', 'line_item'])),
    settle(api.usage(filters, ['model'])),
    settle(api.usage(filters, ['api_key_id'])),
    settle(api.usage(filters, ['project_id'])),
    settle(api.economics(filters)),
    settle(api.models()),
    chartLibraryLoaded(),
  ]);
  if (mine !== generation) {
    return;
  }

  fillChoices(state, { usageByKey, usageByTeam, usageByModel, models });
  const problems = [];
  const note = (what, result) => {
    if (result.error) {
      problems.push(result.error.status === 404 ? `the ${what} API is not available on this server` : `${what}: ${result.error.message}`);
    }
  };
  note('Costs', costsByModel);
  note('Usage', usageByModel);
  note('Economics', economics);

  render('totals', () => renderTotals(costsByModel.value, usageByModel.value));
  render('spend', () => renderSpend(filters, costsByModel));
  render('breakeven', () => renderBreakEven(filters, costsByModel, economics));
  render('unit-cost', () => renderUnitCost(economics));
  render('cache', () => renderCache(filters, usageByModel, economics));
  render('by-key', () => renderByGroup('by-key', filters, usageByKey, 'apiKey', 'api_key_id', 'API key'));
  render('by-team', () => renderByGroup('by-team', filters, usageByTeam, 'team', 'project_id', 'Team'));
  render('utilization', () => renderUtilization(economics));

  status.textContent = problems.length ? `${problems.join('; ')}.`.replace(/^./, (c) => c.toUpperCase()) : `Showing ${fmt.date(filters.start * 1000)} to ${fmt.date((filters.end - 1) * 1000)} (UTC).`;
  status.classList.toggle('error', problems.length > 0);
  document.body.dataset.state = 'ready';
}

function render(id, draw) {
  try {
    draw();
  } catch (error) {
    // One chart that cannot draw leaves the others be; the reader sees why.
    const card = document.getElementById(id);
    if (card) {
      message(card, `Could not draw this chart: ${error.message}`);
    }
    console.warn(id, error);
  }
}

/** Replaces a card's chart with a sentence (no data, or an API that is not there). */
function message(card, text) {
  let p = card.querySelector('.empty');
  if (!p) {
    p = document.createElement('p');
    p.className = 'empty';
    card.querySelector('header').after(p);
  }
  p.textContent = text;
  p.hidden = !text;
  for (const chart of card.querySelectorAll('.chart, .charts')) {
    chart.hidden = Boolean(text);
  }
}

function unavailable(card, result, what) {
  if (result.error) {
    message(card, result.error.status === 404 ? `The ${what} API is not available on this server.` : `${what}: ${result.error.message}`);
    return true;
  }
  return false;
}

function fillChoices(state, { usageByKey, usageByTeam, usageByModel, models }) {
  const seen = (result, field) => [...new Set((result.value || []).flatMap((b) => b.results.map((r) => r[field])).filter(Boolean))].sort();
  const choices = {
    team: seen(usageByTeam, 'team'),
    key: seen(usageByKey, 'apiKey'),
    model: [...new Set([...(models.value || []).map((m) => m.id), ...seen(usageByModel, 'model')])].sort(),
  };
  for (const [name, values] of Object.entries(choices)) {
    const select = form.elements[name];
    for (const value of values) {
      ensureOption(select, value);
    }
    select.value = state[name];
  }
}

function setCsv(card, href) {
  const link = card.querySelector('[data-csv]');
  link.href = href;
  link.textContent = href.includes('format=csv') ? 'CSV' : 'Data';
}

function setTotal(card, text) {
  const total = card.querySelector('[data-chart-total]');
  if (total) {
    total.textContent = text;
  }
}

function bucketAxisTitle(bucket) {
  return bucket === '1d' ? 'Day (UTC)' : bucket === '1h' ? 'Hour (UTC)' : 'Minute (UTC)';
}

const sum = (values) => values.reduce((total, v) => total + (v ?? 0), 0);

// ---- Totals --------------------------------------------------------------------------------------------------------

function renderTotals(costBuckets, usageBuckets) {
  const set = (name, text) => {
    document.querySelector(`[data-total="${name}"]`).textContent = text;
  };
  const costRows = costBuckets ? costBuckets.flatMap((b) => b.results) : null;
  const usageRows = usageBuckets ? usageBuckets.flatMap((b) => b.results) : null;
  set('spend', costRows ? fmt.money(sum(costRows.map((r) => r.amount))) : fmt.DASH);
  set('inference', costRows ? fmt.money(sum(costRows.filter((r) => !api.isIdleLineItem(r.lineItem)).map((r) => r.amount))) : fmt.DASH);
  set('idle', costRows ? fmt.money(sum(costRows.filter((r) => api.isIdleLineItem(r.lineItem)).map((r) => r.amount))) : fmt.DASH);
  set('requests', usageRows ? fmt.count(sum(usageRows.map((r) => r.requests))) : fmt.DASH);
  set('input-tokens', usageRows ? fmt.count(sum(usageRows.map((r) => r.inputTokens))) : fmt.DASH);
  set('output-tokens', usageRows ? fmt.count(sum(usageRows.map((r) => r.outputTokens))) : fmt.DASH);
  set('cached-tokens', usageRows ? fmt.count(sum(usageRows.map((r) => r.cachedTokens))) : fmt.DASH);
}

// ---- Spend over time -----------------------------------------------------------------------------------------------

function renderSpend(filters, result) {
  const card = document.getElementById('spend');
  setCsv(card, api.csvUrl(api.COSTS_PATH, filters, ['model', 'line_item']));
  if (unavailable(card, result, 'Costs')) {
    setTotal(card, '');
    return;
  }
  const buckets = result.value;
  const series = new Map();
  for (const [index, bucket] of buckets.entries()) {
    for (const row of bucket.results) {
      const idle = api.isIdleLineItem(row.lineItem);
      const model = row.model || 'all models';
      const name = `${model} · ${idle ? 'idle capacity' : 'busy inference'}`;
      if (!series.has(name)) {
        series.set(name, { model, idle, values: new Array(buckets.length).fill(0) });
      }
      series.get(name).values[index] += row.amount ?? 0;
    }
  }
  const total = sum([...series.values()].flatMap((s) => s.values));
  setTotal(card, `Total ${fmt.money(total)}`);
  message(card, series.size === 0 ? 'No spend in this range.' : '');
  const datasets = [...series.entries()]
    .sort(([, a], [, b]) => a.model.localeCompare(b.model) || Number(a.idle) - Number(b.idle))
    .map(([name, s]) => ({
      label: name,
      data: s.values,
      stack: 'spend',
      backgroundColor: colorOf(colorIndex(s.model), s.idle ? 0.35 : 0.9),
      borderColor: colorOf(colorIndex(s.model)),
      borderWidth: s.idle ? 1 : 0,
    }));
  draw(card.querySelector('canvas'), {
    type: 'bar',
    data: { labels: buckets.map((b) => fmt.bucketLabel(b.start, filters.bucket)), datasets },
    options: {
      scales: {
        x: axis(bucketAxisTitle(filters.bucket), null, { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } }),
        y: axis('Spend (USD)', fmt.moneyTick, { stacked: true, beginAtZero: true }),
      },
      plugins: { tooltip: tooltip(fmt.money) },
    },
  });
}

// ---- Inference spend against training cost -------------------------------------------------------------------------

function checkpointsOf(variants) {
  const groups = new Map();
  for (const variant of variants) {
    const key = variant.checkpoint || variant.model || 'model';
    if (!groups.has(key)) {
      groups.set(key, []);
    }
    groups.get(key).push(variant);
  }
  return [...groups.entries()].map(([name, members]) => {
    // A checkpoint's training cost: its pretraining once, plus each variant's post-training.
    const pretraining = members.find((m) => m.pretrainingCostUsd != null)?.pretrainingCostUsd;
    const post = sum(members.map((m) => m.postTrainingCostUsd));
    const training = pretraining != null ? pretraining + post : Math.max(0, ...members.map((m) => m.trainingCostUsd ?? 0)) || null;
    const withDate = members.filter((m) => m.breakEven.date).sort((a, b) => b.breakEven.date - a.breakEven.date)[0];
    const breakEven = withDate?.breakEven ?? members.find((m) => m.breakEven.text)?.breakEven ?? { date: null, text: null };
    return { name, members, models: new Set(members.map((m) => m.model)), training, breakEven };
  });
}

function renderBreakEven(filters, costsResult, economicsResult) {
  const card = document.getElementById('breakeven');
  setCsv(card, api.csvUrl(api.COSTS_PATH, filters, ['model', 'line_item']));
  const container = card.querySelector('.charts');
  container.replaceChildren();
  if (unavailable(card, economicsResult, 'Economics') || unavailable(card, costsResult, 'Costs')) {
    return;
  }
  const checkpoints = checkpointsOf(economicsResult.value.variants);
  message(card, checkpoints.length === 0 ? 'No checkpoint has training costs yet.' : '');
  const whatIfs = economicsResult.value.whatIf;
  for (const [index, checkpoint] of checkpoints.entries()) {
    // Cumulative busy inference spend of the checkpoint's variants over the range.
    let running = 0;
    const points = [{ x: filters.start * 1000, y: 0 }];
    for (const bucket of costsResult.value) {
      running += sum(bucket.results.filter((r) => !api.isIdleLineItem(r.lineItem) && (!r.model || checkpoint.models.has(r.model))).map((r) => r.amount));
      points.push({ x: Math.min(bucket.end, Date.now()), y: running });
    }
    const figure = document.createElement('figure');
    figure.className = 'breakeven';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('aria-label', `Cumulative inference spend of ${checkpoint.name} against its training cost`);
    const chart = document.createElement('div');
    chart.className = 'chart';
    chart.append(canvas);
    const caption = document.createElement('figcaption');
    const breakEvenText = checkpoint.breakEven.date ? `projected break-even ${fmt.date(checkpoint.breakEven.date)}` : `break-even ${checkpoint.breakEven.text ?? fmt.DASH}`;
    caption.innerHTML = '';
    caption.append(
      strong(checkpoint.name),
      ` · ${[...checkpoint.models].join(', ')} · inference in range ${fmt.money(running)} · training ${fmt.money(checkpoint.training)} · ${breakEvenText}`,
    );
    figure.append(caption, chart);
    const applicable = whatIfs.filter((w) => !w.checkpoint || w.checkpoint === checkpoint.name);
    if (applicable.length) {
      const list = document.createElement('p');
      list.className = 'whatif';
      list.textContent = applicable.map((w) => `What if it had cost ${fmt.money(w.trainingCostUsd)} (${w.name ?? 'catalog'}): break-even ${w.breakEven.date ? fmt.date(w.breakEven.date) : (w.breakEven.text ?? fmt.DASH)}`).join(' · ');
      figure.append(list);
    }
    container.append(figure);

    const last = points[points.length - 1];
    const datasets = [
      { label: 'Cumulative inference spend', data: points, borderColor: colorOf(index), backgroundColor: colorOf(index, 0.15), fill: true, pointRadius: 0, tension: 0 },
    ];
    let right = last.x;
    if (checkpoint.training != null) {
      if (checkpoint.breakEven.date) {
        right = Math.max(right, checkpoint.breakEven.date.getTime());
        datasets.push({
          label: `Projection to break-even (${fmt.date(checkpoint.breakEven.date)})`,
          data: [last, { x: checkpoint.breakEven.date.getTime(), y: checkpoint.training }],
          borderColor: colorOf(index),
          borderDash: [6, 4],
          pointRadius: [0, 6],
          pointStyle: 'rectRot',
          pointBackgroundColor: '#111827',
        });
      }
      datasets.push({ label: `Training cost ${fmt.money(checkpoint.training)}`, data: [], borderColor: '#111827', borderWidth: 2, pointRadius: 0, training: checkpoint.training });
    }
    for (const [i, w] of applicable.entries()) {
      if (w.trainingCostUsd == null) {
        continue;
      }
      if (w.breakEven.date) {
        right = Math.max(right, w.breakEven.date.getTime());
      }
      datasets.push({ label: `What-if: ${w.name ?? 'catalog'} ${fmt.money(w.trainingCostUsd)}`, data: [], borderColor: colorOf(i + 4), borderDash: [2, 3], borderWidth: 2, pointRadius: 0, training: w.trainingCostUsd });
    }
    // Horizontal lines span the whole time axis.
    for (const dataset of datasets) {
      if (dataset.training != null) {
        dataset.data = [{ x: filters.start * 1000, y: dataset.training }, { x: right, y: dataset.training }];
      }
    }
    // A log axis from the power of ten under the smallest amount, so a week's spend shows beside a training bill.
    const smallest = Math.min(...datasets.flatMap((d) => d.data.map((p) => p.y)).filter((y) => y > 0));
    const floor = Number.isFinite(smallest) ? 10 ** Math.floor(Math.log10(smallest)) : 0.01;
    draw(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        parsing: false,
        scales: {
          x: axis('Date (UTC)', (v) => fmt.date(v), { type: 'linear', min: filters.start * 1000, max: right, ticks: { maxTicksLimit: 6 } }),
          y: axis('Cumulative USD (log scale)', null, { type: 'logarithmic', min: floor, ticks: { autoSkip: false, callback: logTicks(fmt.moneyTick) } }),
        },
        plugins: {
          tooltip: { callbacks: { title: (items) => fmt.date(items[0].parsed.x), label: (c) => `${c.dataset.label}: ${fmt.money(c.parsed.y)}` } },
        },
      },
    });
  }
}

function strong(text) {
  const element = document.createElement('strong');
  element.textContent = text;
  return element;
}

// ---- Cost per 1M tokens --------------------------------------------------------------------------------------------

function renderUnitCost(result) {
  const card = document.getElementById('unit-cost');
  setCsv(card, `${api.ECONOMICS_PATH}?format=csv`);
  if (unavailable(card, result, 'Economics')) {
    return;
  }
  const variants = result.value.variants;
  message(card, variants.length === 0 ? 'No model has served tokens yet.' : '');
  const reference = variants.find((v) => v.listPriceName)?.listPriceName;
  draw(card.querySelector('canvas'), {
    type: 'bar',
    data: {
      labels: variants.map((v) => v.model),
      datasets: [
        { label: 'Busy compute', data: variants.map((v) => v.busyPer1M), backgroundColor: colorOf(0) },
        { label: 'With idle capacity', data: variants.map((v) => v.withIdlePer1M), backgroundColor: colorOf(0, 0.4), borderColor: colorOf(0), borderWidth: 1 },
        { label: reference ? `List price (${reference})` : 'Reference list price', data: variants.map((v) => v.listPer1M), backgroundColor: '#9ca3af' },
      ],
    },
    options: {
      scales: { x: axis('Model', null), y: axis('USD per 1M tokens', fmt.moneyTick, { beginAtZero: true }) },
      plugins: { tooltip: tooltip(fmt.money) },
    },
  });
}

// ---- Cache savings -------------------------------------------------------------------------------------------------

function renderCache(filters, usageResult, economicsResult) {
  const card = document.getElementById('cache');
  setCsv(card, api.csvUrl(api.USAGE_PATH, filters, ['model']));
  if (unavailable(card, usageResult, 'Usage')) {
    setTotal(card, '');
    return;
  }
  const buckets = usageResult.value;
  // Dollars saved per cached token, per model: the economics API's savings over the cached tokens in the same range.
  const cachedByModel = new Map();
  for (const row of buckets.flatMap((b) => b.results)) {
    cachedByModel.set(row.model, (cachedByModel.get(row.model) ?? 0) + (row.cachedTokens ?? 0));
  }
  const rate = new Map();
  for (const variant of economicsResult.value?.variants ?? []) {
    const cached = cachedByModel.get(variant.model);
    if (variant.cacheSavingsUsd != null && cached) {
      rate.set(variant.model, variant.cacheSavingsUsd / cached);
    }
  }
  const tokens = buckets.map((b) => sum(b.results.map((r) => r.cachedTokens)));
  const dollars = rate.size ? buckets.map((b) => sum(b.results.map((r) => (r.cachedTokens ?? 0) * (rate.get(r.model) ?? 0)))) : null;
  const totalTokens = sum(tokens);
  setTotal(card, `${fmt.count(totalTokens)} tokens · ${dollars ? fmt.money(sum(dollars)) : fmt.DASH} saved`);
  message(card, buckets.length === 0 ? 'No requests in this range.' : '');
  const datasets = [{ label: 'Cached input tokens', data: tokens, backgroundColor: colorOf(2, 0.8), yAxisID: 'y', order: 2 }];
  if (dollars) {
    datasets.push({ type: 'line', label: 'Saved (USD)', data: dollars, borderColor: colorOf(1), backgroundColor: colorOf(1), yAxisID: 'usd', pointRadius: 2, order: 1 });
  }
  draw(card.querySelector('canvas'), {
    type: 'bar',
    data: { labels: buckets.map((b) => fmt.bucketLabel(b.start, filters.bucket)), datasets },
    options: {
      scales: {
        x: axis(bucketAxisTitle(filters.bucket), null, { ticks: { maxRotation: 0, autoSkipPadding: 12 } }),
        y: axis('Cached tokens', fmt.countTick, { beginAtZero: true, position: 'left' }),
        ...(dollars ? { usd: axis('Saved (USD)', fmt.moneyTick, { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } }) } : {}),
      },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.dataset.yAxisID === 'usd' ? fmt.money(c.parsed.y) : fmt.count(c.parsed.y)}` } } },
    },
  });
}

// ---- Tokens by key and by team -------------------------------------------------------------------------------------

function renderByGroup(id, filters, result, field, groupBy, noun) {
  const card = document.getElementById(id);
  setCsv(card, api.csvUrl(api.USAGE_PATH, filters, [groupBy]));
  if (unavailable(card, result, 'Usage')) {
    setTotal(card, '');
    return;
  }
  const groups = new Map();
  for (const row of result.value.flatMap((b) => b.results)) {
    const name = row[field] || `(no ${noun.toLowerCase()})`;
    const group = groups.get(name) ?? { input: 0, output: 0, requests: 0 };
    group.input += row.inputTokens ?? 0;
    group.output += row.outputTokens ?? 0;
    group.requests += row.requests ?? 0;
    groups.set(name, group);
  }
  const entries = [...groups.entries()].sort(([, a], [, b]) => b.input + b.output - (a.input + a.output));
  const tokens = sum(entries.map(([, g]) => g.input + g.output));
  const requests = sum(entries.map(([, g]) => g.requests));
  setTotal(card, `${fmt.count(tokens)} tokens · ${fmt.count(requests)} requests`);
  message(card, entries.length === 0 ? 'No requests in this range.' : '');
  const chart = card.querySelector('.chart');
  chart.style.height = `${Math.max(200, 90 + entries.length * 44)}px`;
  draw(card.querySelector('canvas'), {
    type: 'bar',
    data: {
      labels: entries.map(([name, g]) => [name, `${fmt.count(g.requests)} requests`]),
      datasets: [
        { label: 'Input tokens', data: entries.map(([, g]) => g.input), backgroundColor: colorOf(0), stack: 't' },
        { label: 'Output tokens', data: entries.map(([, g]) => g.output), backgroundColor: colorOf(1), stack: 't' },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: axis('Tokens', fmt.countTick, { stacked: true, beginAtZero: true }),
        y: axis(noun, null, { stacked: true, ticks: { autoSkip: false } }),
      },
      plugins: { tooltip: tooltip(fmt.count, 'x') },
    },
  });
}

// ---- Utilization ---------------------------------------------------------------------------------------------------

function renderUtilization(result) {
  const card = document.getElementById('utilization');
  setCsv(card, `${api.ECONOMICS_PATH}?format=csv`);
  if (unavailable(card, result, 'Economics')) {
    return;
  }
  const pools = result.value.pools;
  message(card, pools.length === 0 ? 'No worker pool has reported its time yet.' : '');
  draw(card.querySelector('canvas'), {
    type: 'bar',
    data: {
      labels: pools.map((p) => p.name ?? fmt.DASH),
      datasets: [{ label: 'Busy share of paid-for time', data: pools.map((p) => (p.utilization == null ? null : p.utilization * 100)), backgroundColor: colorOf(2) }],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: axis('Utilization (% of paid-for time)', (v) => `${v}%`, { min: 0, max: 100 }),
        y: axis('Worker pool', null, { ticks: { autoSkip: false } }),
      },
      plugins: { tooltip: tooltip((v) => fmt.decimal(v, '%'), 'x') },
    },
  });
}

// ---- CSV links: fetched with the key, saved as a file ---------------------------------------------------------------

document.addEventListener('click', async (event) => {
  const link = event.target.closest('a[data-csv]');
  if (!link || !link.href) {
    return;
  }
  event.preventDefault();
  try {
    const response = await api.apiFetch(link.getAttribute('href'));
    const blob = await response.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${link.closest('article').id}.${link.href.includes('format=csv') ? 'csv' : 'json'}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (error) {
    status.textContent = `Download failed: ${error.message}`;
    status.classList.add('error');
  }
});

form.addEventListener('change', () => {
  const state = stateFromForm();
  if (state.range === 'custom' && !(state.from && state.to)) {
    // Start a custom range from the preset in view.
    const current = queryOf(stateFromUrl());
    state.from = new Date(current.start * 1000).toISOString().slice(0, 10);
    state.to = new Date((current.end - 1) * 1000).toISOString().slice(0, 10);
  }
  writeUrl(state);
  load();
});
window.addEventListener('popstate', load);

installKeyForm();
load();

// Chart.js with the pages' defaults: no animation (first render fast, screenshots stable), the system font, units on
// every axis, figures in tooltips formatted as on the page.

const PALETTE = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#dc2626', '#0891b2', '#65a30d', '#db2777'];

export function colorOf(index, alpha = 1) {
  const hex = PALETTE[index % PALETTE.length];
  if (alpha === 1) {
    return hex;
  }
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

let configured = false;

function chartLibrary() {
  const Chart = window.Chart;
  if (!Chart) {
    throw new Error('The chart library did not load.');
  }
  if (!configured) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = '#374151';
    Chart.defaults.animation = false;
    Chart.defaults.responsive = true;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.plugins.legend.position = 'bottom';
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    configured = true;
  }
  return Chart;
}

/**
 * Resolves once the chart library's script has run (or failed): /dashboard loads it async so that its data requests
 * need not wait for the library to be parsed (docs/benchmarks.md, "Dashboard").
 */
export function chartLibraryLoaded() {
  const script = document.querySelector('script[src*="/lib/chart.js/"]');
  if (window.Chart || !script) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    script.addEventListener('load', resolve, { once: true });
    script.addEventListener('error', resolve, { once: true });
  });
}

/** Draws (or redraws) a chart on a canvas. */
export function draw(canvas, config) {
  const Chart = chartLibrary();
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, config);
}

/** An axis with a title (its unit) and formatted ticks. */
export function axis(title, format, extra = {}) {
  return {
    ...extra,
    title: { display: true, text: title },
    ticks: { ...(extra.ticks || {}), ...(format ? { callback: (value) => format(value) } : {}) },
  };
}

/** A tooltip line "label: formatted value" for the value on `valueAxis`. */
export function tooltip(format, valueAxis = 'y') {
  return {
    callbacks: {
      label: (context) => `${context.dataset.label}: ${format(context.parsed[valueAxis])}`,
    },
  };
}

/**
 * Tick labels of a logarithmic axis: powers of ten (with 2 and 5 when there is room), every n-th power when even those
 * would overlap, so an axis from a fraction of a cent to a training bill stays readable at any size.
 */
export function logTicks(format, labelPixels = 18) {
  return function label(value, index, ticks) {
    const values = ticks.map((t) => t.value).filter((v) => v > 0);
    if (!(value > 0) || values.length === 0) {
      return '';
    }
    const exponent = Math.floor(Math.log10(value) + 1e-9);
    const mantissa = Math.round((value / 10 ** exponent) * 1000) / 1000;
    const decades = Math.floor(Math.log10(Math.max(...values) / Math.min(...values)) + 1e-9) + 1;
    const room = Math.max(2, Math.floor((this.height || this.maxHeight || 200) / labelPixels));
    if (mantissa !== 1) {
      return (mantissa === 2 || mantissa === 5) && decades * 3 <= room ? format(value) : '';
    }
    const step = Math.ceil(decades / room);
    return ((exponent % step) + step) % step === 0 ? format(value) : '';
  };
}

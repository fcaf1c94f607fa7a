// How figures read on the pages: money as money, counts with separators, dates as dates (UTC, like the API's buckets).

const DASH = '\u2014';
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const small = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 });
const compactMoney = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

/** $1,234.56; amounts under a dollar keep enough digits to be told apart ($0.0042). */
export function money(value) {
  if (!isNumber(value)) {
    return DASH;
  }
  const abs = Math.abs(value);
  if (abs === 0 || abs >= 1) {
    return dollars.format(value);
  }
  return abs >= 0.01 ? cents.format(value) : small.format(value);
}

/** Money on an axis: short ($1.2K, $3M) for large values, enough digits for small ones. */
export function moneyTick(value) {
  if (!isNumber(value)) {
    return '';
  }
  const abs = Math.abs(value);
  if (abs === 0) {
    return '$0';
  }
  if (abs >= 1000) {
    return compactMoney.format(value);
  }
  return abs >= 1 && Number.isInteger(value) ? `$${integer.format(value)}` : money(value);
}

export function count(value) {
  return isNumber(value) ? integer.format(value) : DASH;
}

export function countTick(value) {
  return isNumber(value) ? (Math.abs(value) >= 10_000 ? compact.format(value) : integer.format(value)) : '';
}

export function decimal(value, unit = '') {
  return isNumber(value) ? `${oneDecimal.format(value)}${unit}` : DASH;
}

export function share(value) {
  return isNumber(value) ? percent.format(value) : DASH;
}

const dayFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
const yearDayFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
const hourFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const minuteFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** A bucket's start as a date for its width: "Dec 7" (days), "Dec 7, 14:00" (hours), "14:05" (minutes). */
export function bucketLabel(ms, bucket) {
  const date = new Date(ms);
  return bucket === '1d' ? dayFormat.format(date) : bucket === '1h' ? hourFormat.format(date) : minuteFormat.format(date);
}

/** A calendar date: "Mar 4, 2027". */
export function date(value) {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? DASH : yearDayFormat.format(d);
}

export { DASH };

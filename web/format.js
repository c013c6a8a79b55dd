// Number formatting for the UI, the same rules as the reports the agents write (src/llm/builtin-prose.ts), so a figure
// reads identically in the chat and on the dashboard: $1,234.56, 12.5%, 1,234 ms. Pure: no DOM.

function group(n, decimals) {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** $1,234.56; amounts under a cent keep two significant digits ($0.0042), as the reports do. */
export function formatUsd(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  if (a > 0 && a < 0.01) return `${sign}$${Number(a.toPrecision(2))}`;
  return `${sign}$${group(a, 2)}`;
}

/** A value already in percent: 12.5 → "12.5%". */
export function formatPercent(pct) {
  if (typeof pct !== 'number' || !Number.isFinite(pct)) return '—';
  return `${group(pct, Math.abs(pct) < 10 && pct !== Math.round(pct) ? 2 : 1)}%`;
}

/** A share 0..1 as percent: 0.125 → "12.5%". */
export function formatShare(v) {
  return typeof v === 'number' && Number.isFinite(v) ? formatPercent(v * 100) : '—';
}

export function formatMs(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return `${group(v, v < 10 && !Number.isInteger(v) ? 1 : 0)} ms`;
}

export function formatCount(v) {
  return typeof v === 'number' && Number.isFinite(v) ? group(Math.round(v), 0) : '—';
}

export function formatNumber(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return Number.isInteger(v) ? group(v, 0) : group(v, Math.abs(v) < 1 ? 4 : 2).replace(/\.?0+$/, '');
}

export function formatBytes(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${group(x, i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Formats by a key's unit suffix, like the reports: *_usd, *_ms, *_rate/_share/_ratio, *_pct, *_bytes, counts. */
export function formatByKey(key, v) {
  if (typeof v !== 'number') return String(v);
  if (/_usd$/.test(key)) return formatUsd(v);
  if (/_ms$/.test(key)) return formatMs(v);
  if (/_(rate|share|ratio)$/.test(key)) return formatShare(v);
  if (/_(pct|percent)$/.test(key)) return formatPercent(v);
  if (/_bytes$/.test(key)) return formatBytes(v);
  return formatNumber(v);
}

/** A short local date-time: "Nov 22, 08:30". */
export function formatTime(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

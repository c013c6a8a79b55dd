// Small inline SVG charts for the dashboard (no chart library): a line chart with min/max labels and a horizontal bar
// list. Each chart has a text alternative (role="img" + aria-label) stating its figures.

import { h, svg } from './dom.js';

/**
 * A line chart of `points` ([{ t, v }], v may be null for a gap). `format` renders a value for labels.
 * Returns a <figure> with a caption.
 */
export function lineChart(points, { title, format, width = 320, height = 90 }) {
  const vals = points.map((p) => p.v).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const fig = h('figure', { class: 'chart' });
  const last = vals.length ? vals[vals.length - 1] : null;
  fig.append(
    h(
      'figcaption',
      {},
      h('span', { class: 'chart-title' }, title),
      h('span', { class: 'chart-value' }, last === null ? '—' : format(last)),
    ),
  );
  if (vals.length < 2) {
    fig.append(
      h(
        'p',
        { class: 'muted small-text chart-empty' },
        vals.length === 1 ? 'one sample so far: the line appears as samples accumulate (every 10 s)' : 'no samples yet',
      ),
    );
    return fig;
  }
  const min = Math.min(...vals);
  const max = Math.max(...vals);
  const span = max - min || Math.abs(max) || 1;
  const pad = 4;
  const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v) => height - pad - ((v - min) / span) * (height - 2 * pad);
  const ok = (p) => p && typeof p.v === 'number' && Number.isFinite(p.v);
  let d = '';
  let pen = false;
  const dots = [];
  points.forEach((p, i) => {
    if (!ok(p)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.v).toFixed(1)}`;
    pen = true;
    // a sample between gaps draws no line: mark it
    if (!ok(points[i - 1]) && !ok(points[i + 1]))
      dots.push(svg('circle', { cx: x(i).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5, class: 'chart-dot' }));
  });
  const area = `${d}L${x(points.length - 1).toFixed(1)},${height - pad}L${x(0).toFixed(1)},${height - pad}Z`;
  const label = `${title}: from ${format(vals[0])} to ${format(last)}, between ${format(min)} and ${format(max)} over ${points.length} points`;
  fig.append(
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', role: 'img', 'aria-label': label, preserveAspectRatio: 'none' },
      svg('path', { d: area, class: 'chart-area' }),
      svg('path', { d, class: 'chart-line' }),
      ...dots,
    ),
  );
  fig.append(h('div', { class: 'chart-range muted small-text' }, h('span', {}, `min ${format(min)}`), h('span', {}, `max ${format(max)}`)));
  return fig;
}

/** Horizontal bars: rows [{ label, value, note? }], longest bar = the largest value. */
export function barList(rows, { format, label }) {
  const max = Math.max(0, ...rows.map((r) => r.value));
  const list = h('ul', { class: 'bars', 'aria-label': label });
  for (const r of rows) {
    const share = max > 0 ? r.value / max : 0;
    list.append(
      h(
        'li',
        { class: 'bar-row' },
        h('span', { class: 'bar-label', title: r.label }, r.label),
        svg(
          'svg',
          { class: 'bar-svg', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
          svg('rect', { x: 0, y: 0, width: (share * 100).toFixed(2), height: 10, rx: 1.5, class: 'bar-fill' }),
        ),
        h('span', { class: 'bar-value' }, format(r.value), r.note ? h('span', { class: 'muted' }, ` ${r.note}`) : null),
      ),
    );
  }
  return list;
}

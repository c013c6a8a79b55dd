// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
// The dashboard: where the money and the time go (GET /api/v1/analysis: summary, spend by model, spend/latency over time,
// top recommendations with dollars, evidence and risk) and how this server is doing (GET /api/v1/system/performance:
// request latency, throughput, ingest rate, cache hit rate, memory, event-loop lag over the last hour). Refreshes every
// 10 s while visible. Figures carry data-figure="<api field>" so tests can compare them with the API.

import { ApiError, getJson, withQuery } from './api.js';
import { barList, lineChart } from './charts.js';
import { $, clear, h } from './dom.js';
import { gatewaySavingsPanel } from './gateway-savings.js';
import { formatByKey, formatBytes, formatCount, formatMs, formatNumber, formatShare, formatTime, formatUsd } from './format.js';

const REFRESH_MS = 10_000;

export function createDashboard() {
  const els = { analysis: $('dash-analysis'), system: $('dash-system'), goal: $('goal'), updated: $('dash-updated') };
  let workspace = null;
  let timer = null;
  let visible = false;
  let loading = null;

  const figure = (label, key, value, note) =>
    h(
      'div',
      { class: 'figure' },
      h('dt', {}, label),
      h('dd', { 'data-figure': key }, value),
      note ? h('dd', { class: 'muted small-text' }, note) : null,
    );

  function problem(el, err, what) {
    clear(el).append(
      h(
        'p',
        { class: 'notice notice-error', role: 'alert' },
        `Could not load ${what}: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
  }

  function renderAnalysis(a) {
    const el = clear(els.analysis);
    const s = a.summary;
    if (!s || s.events === 0) {
      el.append(
        h(
          'div',
          { class: 'empty-state card' },
          h('h3', {}, `No events yet in workspace ${workspace}`),
          h('p', {}, 'Import or generate data, then come back: the figures appear within 10 seconds.'),
          h(
            'pre',
            {},
            h(
              'code',
              {},
              `npx netra generate --preset chat-support --events 20000 --days 7 --workspace ${workspace}\nnpx netra import events.jsonl --format jsonl --workspace ${workspace}`,
            ),
          ),
          h(
            'p',
            { class: 'muted small-text' },
            'The CLI works on the data directory: run it with the server stopped. With the server running, ask in the chat: “Generate 10k synthetic events for a RAG support bot”, or send events to POST /api/v1/events.',
          ),
        ),
      );
      return;
    }
    const ps = s.projected_savings;
    el.append(
      h(
        'dl',
        { class: 'figures' },
        figure('Events analysed', 'events', formatCount(s.events), `${formatTime(s.from)} – ${formatTime(s.to)}`),
        figure('Spend in window', 'spend_usd', formatUsd(s.spend_usd)),
        figure('Monthly spend', 'monthly_spend_usd', formatUsd(s.monthly_spend_usd), 'window scaled to 30 days'),
        // the one projected-savings figure: the replay of every recommendation together (overlaps counted once)
        figure(
          'Projected savings',
          'projected_savings.monthly_usd',
          ps && ps.monthly_usd !== null ? `${formatUsd(ps.monthly_usd)}/mo` : 'not replayed',
          ps && ps.monthly_usd !== null
            ? `${formatShare(ps.share_of_spend)} of spend; all recommendations replayed together`
            : (ps?.unavailable ?? 'no policy to replay'),
        ),
        figure(
          'Window latency p95',
          'latency_p95_ms',
          formatMs(s.latency_p95_ms),
          `p50 ${formatMs(s.latency_p50_ms)}, every call in the window`,
        ),
        figure('Error rate', 'error_rate', formatShare(s.error_rate)),
        figure(
          'Estimated tokens',
          'estimated_token_share',
          formatShare(s.estimated_token_share ?? 0),
          `${formatCount(s.estimated_token_events ?? 0)} calls sent without usage: tokens counted from their text`,
        ),
      ),
    );
    if ((s.unpriced_events ?? 0) > 0) el.append(unpricedNotice(s.unpriced_events));
    for (const w of s.warnings ?? []) el.append(h('p', { class: 'notice notice-warn', role: 'note', 'data-figure': 'warning' }, w));

    const perf = a.performance ?? {};
    const byModel = [...(perf.by_model ?? [])].sort((x, y) => y.spend_usd - x.spend_usd).slice(0, 8);
    const series = perf.series ?? [];
    const pts = (f) => series.map((p) => ({ t: p.bucket_start, v: f(p) }));
    const bucket = perf.bucket_ms ? `per ${formatBucket(perf.bucket_ms)}` : '';
    el.append(
      h(
        'div',
        { class: 'grid' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'h-models' },
          h('h3', { id: 'h-models' }, 'Spend by model'),
          byModel.length
            ? barList(
                byModel.map((m) => ({
                  label: m.model,
                  value: m.spend_usd,
                  note: `${formatShare(m.share_of_spend)} · ${formatCount(m.events)} calls`,
                })),
                { format: formatUsd, label: 'Spend by model' },
              )
            : h('p', { class: 'muted' }, 'no model figures'),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'h-time' },
          h('h3', { id: 'h-time' }, 'Over time'),
          lineChart(
            pts((p) => p.spend_usd),
            { title: `Spend ${bucket}`, format: formatUsd },
          ),
          lineChart(
            pts((p) => p.bucket_latency_p95_ms),
            { title: `Bucket latency p95 ${bucket}`, format: formatMs },
          ),
          lineChart(
            pts((p) => p.throughput_per_min),
            { title: 'Calls per minute', format: formatNumber },
          ),
        ),
      ),
    );

    // the API's top list (at most ten), then what else there is: more, findings, minor items grouped
    const recs = a.recommendations ?? [];
    const recSection = h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-recs' },
      h('h3', { id: 'h-recs' }, `Top recommendations (${formatCount(recs.length)})`),
    );
    if (recs.length === 0) recSection.append(h('p', { class: 'muted' }, 'Nothing to change in this window (see skipped analyses below).'));
    else {
      recSection.append(
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'recs' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['#', 'Recommendation', 'Standalone savings / mo', 'Evidence', 'Risk', 'Confidence'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              ...recs.map((r, i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, String(r.rank ?? i + 1)),
                  h(
                    'td',
                    {},
                    h('span', { class: 'rec-title' }, r.title),
                    h('span', { class: 'muted small-text rec-kind' }, r.kind.replace(/_/g, ' ')),
                  ),
                  h('td', { class: 'num', 'data-figure': 'recommendation.monthly_savings_usd' }, formatUsd(r.monthly_savings_usd)),
                  h('td', { class: 'small-text' }, evidenceText(r)),
                  h(
                    'td',
                    {},
                    h(
                      'span',
                      { class: `risk risk-${r.quality_risk?.level ?? 'unknown'}`, title: r.quality_risk?.reason ?? '' },
                      r.quality_risk?.level ?? '—',
                    ),
                  ),
                  h('td', { class: 'num' }, formatShare(r.confidence)),
                ),
              ),
            ),
          ),
        ),
      );
    }
    const rest = [];
    if (a.more_recommendations?.length) rest.push(`${formatCount(a.more_recommendations.length)} more recommendations`);
    if (a.minor?.count)
      rest.push(
        `${formatCount(a.minor.count)} minor items (each under ${formatUsd(a.minor.below_usd)}/mo, ${formatUsd(a.minor.standalone_monthly_savings_usd)}/mo standalone together)`,
      );
    if (rest.length)
      recSection.append(
        h('p', { class: 'muted small-text', 'data-figure': 'minor.count' }, `${rest.join('; ')}: listed by GET /api/v1/analysis.`),
      );
    if (a.findings?.length)
      recSection.append(h('h4', {}, 'Findings'), h('ul', { class: 'small-text' }, ...a.findings.map((r) => h('li', {}, r.title))));
    if (recs.length > 0) {
      const savings = gatewaySavingsPanel(workspace);
      recSection.append(applyInShadow(savings.refresh), savings.el);
    }
    if (a.skipped?.length)
      recSection.append(
        h(
          'p',
          { class: 'muted small-text' },
          `Skipped: ${a.skipped.map((k) => `${k.kind.replace(/_/g, ' ')} (needs ${k.needs})`).join('; ')}`,
        ),
      );
    el.append(recSection);
  }

  /** "Apply in shadow": the recommended policy goes into Netra's gateway in shadow mode (docs/GATEWAY.md); each recorded
   * call then says what it would have done. Owners only: the API refuses others and the message says so. */
  function applyInShadow(onApplied) {
    const status = h('span', { class: 'muted small-text', role: 'status', 'data-figure': 'gateway.mode' });
    const button = h('button', { type: 'button', class: 'button', 'data-action': 'apply-shadow' }, 'Apply in shadow');
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.textContent = 'applying…';
      try {
        const policy = await getJson(withQuery('/api/v1/policy', { workspace, goal: els.goal?.value || undefined }));
        const r = await getJson(`/api/v1/workspaces/${encodeURIComponent(workspace)}/gateway-policy`, {
          method: 'PUT',
          body: { mode: 'shadow', policy },
        });
        status.textContent = `gateway policy: ${r.mode} since ${formatTime(Date.parse(r.activated_at))}`;
        void onApplied();
      } catch (err) {
        status.textContent = `could not apply: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        button.disabled = false;
      }
    });
    return h(
      'p',
      { class: 'rec-actions' },
      button,
      ' ',
      status,
      h('span', { class: 'muted small-text' }, ' the gateway records what these recommendations would change, without changing any call'),
    );
  }

  // Models with no price: their calls count as $0 until a price override reprices them (GET /api/v1/models/unpriced).
  function unpricedNotice(n) {
    const box = h(
      'section',
      { class: 'card notice', 'aria-labelledby': 'h-unpriced', 'data-figure': 'unpriced_events' },
      h('h3', { id: 'h-unpriced' }, `${formatCount(n)} calls of models with no price (counted as $0)`),
    );
    const list = h('ul', { class: 'small-text' });
    box.append(
      list,
      h(
        'p',
        { class: 'muted small-text' },
        'Fix: add a price override for each model (PUT /api/v1/workspaces/<workspace>/price-overrides/<model> with { "input": …, "output": … } in USD per token); its stored calls are repriced at once.',
      ),
    );
    getJson(withQuery('/api/v1/models/unpriced', { workspace })).then(
      (u) => {
        for (const m of u.models ?? [])
          list.append(
            h(
              'li',
              { 'data-unpriced-model': m.model },
              `${m.model} (${m.provider}): ${formatCount(m.events)} calls, ${formatCount(m.prompt_tokens + m.completion_tokens)} tokens`,
            ),
          );
      },
      () => list.append(h('li', {}, 'could not load the list of unpriced models')),
    );
    return box;
  }

  function renderSystem(p) {
    const el = clear(els.system);
    const samples = [...(p.snapshots ?? []), p.current].filter(Boolean);
    const pts = (f) => samples.map((s) => ({ t: Date.parse(s.at), v: f(s) }));
    const cur = p.current ?? {};
    el.append(
      h(
        'dl',
        { class: 'figures' },
        figure(
          'Memory health',
          'memory_health.status',
          p.memory_health?.status ?? '—',
          (p.memory_health?.reasons ?? []).join('; ') || undefined,
        ),
        figure(
          'Heap used',
          'current.memory.heap_used_bytes',
          formatBytes(cur.memory?.heap_used_bytes),
          `RSS ${formatBytes(cur.memory?.rss_bytes)}`,
        ),
        figure(
          'Cache hit rate',
          'current.cache.hit_rate_since_start',
          formatShare(cur.cache?.hit_rate_since_start),
          `${cur.cache?.backend ?? ''} cache, since start`,
        ),
        figure(
          'HTTP p95',
          'current.http.latency_p95_ms',
          formatMs(cur.http?.latency_p95_ms),
          `${formatNumber(cur.http?.requests_per_s ?? 0)} requests/s now`,
        ),
      ),
    );
    el.append(
      h(
        'div',
        { class: 'grid grid-3' },
        lineChart(
          pts((s) => s.http?.latency_p95_ms ?? null),
          { title: 'HTTP latency p95', format: formatMs },
        ),
        lineChart(
          pts((s) => s.http?.requests_per_s ?? null),
          { title: 'Requests per second', format: formatNumber },
        ),
        lineChart(
          pts((s) => s.ingest?.accepted_per_s ?? null),
          { title: 'Events ingested per second', format: formatNumber },
        ),
        lineChart(
          pts((s) => s.cache?.hit_rate ?? null),
          { title: 'Cache hit rate', format: formatShare },
        ),
        lineChart(
          pts((s) => s.memory?.heap_used_bytes ?? null),
          { title: 'Heap used', format: formatBytes },
        ),
        lineChart(
          pts((s) => s.event_loop?.p99_ms ?? null),
          { title: 'Event-loop lag p99', format: formatMs },
        ),
      ),
    );
    el.append(
      h(
        'p',
        { class: 'muted small-text' },
        `One sample every ${Math.round((p.interval_ms ?? REFRESH_MS) / 1000)} s over the last ${Math.round((p.history_ms ?? 0) / 60_000)} min (${samples.length} so far).`,
      ),
    );
  }

  async function refresh() {
    if (!workspace || loading) return loading;
    loading = (async () => {
      const goal = els.goal.value;
      const [analysis, system] = await Promise.allSettled([
        getJson(withQuery('/api/v1/analysis', { workspace, goal })),
        getJson('/api/v1/system/performance'),
      ]);
      if (analysis.status === 'fulfilled') renderAnalysis(analysis.value);
      else if (analysis.reason instanceof ApiError && analysis.reason.status === 404 && analysis.reason.field === 'workspace')
        renderAnalysis({ summary: null });
      else problem(els.analysis, analysis.reason, 'the analysis');
      if (system.status === 'fulfilled') renderSystem(system.value);
      else if (system.reason instanceof ApiError && system.reason.status === 403) {
        clear(els.system).append(h('p', { class: 'muted' }, 'Server figures are shown to instance administrators.'));
      } else problem(els.system, system.reason, 'the server figures');
      els.updated.textContent = `Updated ${new Date().toLocaleTimeString('en-US', { hour12: false })}; refreshes every 10 s`;
      els.analysis.closest('section')?.setAttribute('data-loaded', 'true');
    })().finally(() => {
      loading = null;
    });
    return loading;
  }

  function schedule() {
    clearInterval(timer);
    timer = visible
      ? setInterval(() => {
          if (!document.hidden) refresh();
        }, REFRESH_MS)
      : null;
  }

  els.goal.addEventListener('change', () => {
    refresh();
  });

  return {
    setWorkspace(ws) {
      workspace = ws;
      clear(els.analysis);
      clear(els.system);
      if (visible) refresh();
    },
    show() {
      visible = true;
      refresh();
      schedule();
    },
    hide() {
      visible = false;
      schedule();
    },
    refresh,
  };
}

function formatBucket(ms) {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A recommendation's evidence in one line: its latency note and up to three of its figures. */
function evidenceText(r) {
  const figs = Object.entries(r.evidence?.figures ?? {})
    .filter(([k, v]) => typeof v === 'number' && !k.includes(':'))
    .slice(0, 3)
    .map(([k, v]) => `${k.replace(/_(usd|ms)$/, '').replace(/_/g, ' ')} ${formatByKey(k, v)}`);
  const parts = [...figs];
  if (r.affected_share !== undefined) parts.unshift(`${formatShare(r.affected_share)} of calls`);
  return parts.join(' · ');
}

// The gateway policy's realized vs predicted savings (GET /api/v1/workspaces/:workspace/gateway-savings), beside the
// "Apply in shadow" button: per mode (shadow: would-have, enforce: actual against the recorded counterfactual) and per
// rule kind, the replay's prediction next to what the gateway measured. Figures carry
// data-figure="gateway.savings.<mode>.<field>" (and .<kind>.predicted / .<kind>.measured) so tests compare them with the API.

import { ApiError, getJson } from './api.js';
import { clear, h } from './dom.js';
import { formatCount, formatTime, formatUsd } from './format.js';

const KIND_LABEL = {
  routing: 'Routing',
  exact_cache: 'Exact cache',
  max_tokens_cap: 'max_tokens cap',
  semantic_cache: 'Semantic cache',
  batch: 'Batch',
};

const calls = (v) => (Number.isInteger(v) ? formatCount(v) : v.toFixed(2));

function modeTable(m) {
  const key = (f) => `gateway.savings.${m.mode}.${f}`;
  const ratio =
    m.predicted_savings_usd > 0 ? ` (${Math.round((m.measured_savings_usd / m.predicted_savings_usd) * 100)}% of predicted)` : '';
  return h(
    'div',
    { class: 'gateway-mode', 'data-mode': m.mode },
    h(
      'p',
      {},
      h('strong', {}, m.mode === 'shadow' ? 'Shadow (would have saved)' : 'Enforce (saved)'),
      ` ${formatCount(m.events)} calls, spend `,
      h('span', { 'data-figure': key('spend_usd') }, formatUsd(m.spend_usd)),
      '; measured ',
      h('span', { 'data-figure': key('measured_savings_usd') }, formatUsd(m.measured_savings_usd)),
      ', predicted ',
      h(
        'span',
        { 'data-figure': key('predicted_savings_usd') },
        m.predicted_savings_usd === null ? '—' : formatUsd(m.predicted_savings_usd),
      ),
      ratio,
    ),
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Kind'),
          h('th', { class: 'num' }, 'Predicted calls'),
          h('th', { class: 'num' }, 'Predicted savings'),
          h('th', { class: 'num' }, 'Measured calls'),
          h('th', { class: 'num' }, 'Measured savings'),
        ),
      ),
      h(
        'tbody',
        {},
        ...m.kinds.map((k) =>
          h(
            'tr',
            { title: k.note ?? '' },
            h('td', {}, KIND_LABEL[k.kind] ?? k.kind),
            h('td', { class: 'num' }, k.predicted ? calls(k.predicted.events) : '—'),
            h('td', { class: 'num', 'data-figure': key(`${k.kind}.predicted`) }, k.predicted ? formatUsd(k.predicted.savings_usd) : '—'),
            h('td', { class: 'num' }, formatCount(k.measured.events)),
            h(
              'td',
              { class: 'num', 'data-figure': key(`${k.kind}.measured`) },
              k.measured.savings_usd === null ? 'not measurable' : formatUsd(k.measured.savings_usd),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The panel; `refresh()` reloads it (after the policy changed). Hidden when the server has no gateway. */
export function gatewaySavingsPanel(workspace) {
  const body = h('div', { class: 'gateway-savings-body' });
  const el = h(
    'section',
    { class: 'card gateway-savings', 'aria-labelledby': 'h-gateway-savings' },
    h('h3', { id: 'h-gateway-savings' }, 'Gateway policy: realized vs predicted'),
    body,
  );
  const again = h('button', { type: 'button', class: 'button button-small', 'data-action': 'refresh-savings' }, 'Refresh');
  again.addEventListener('click', () => void refresh());
  el.append(again);
  async function refresh() {
    let r;
    try {
      r = await getJson(`/api/v1/workspaces/${encodeURIComponent(workspace)}/gateway-savings`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        el.hidden = true; // no gateway on this server
        return;
      }
      clear(body).append(h('p', { class: 'muted small-text' }, `could not load: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    el.hidden = false;
    const head = h(
      'p',
      { class: 'small-text' },
      'Policy ',
      h('span', { 'data-figure': 'gateway.savings.mode' }, r.mode),
      r.policy_version ? ` (version ${r.policy_version}${r.activated_at ? `, since ${formatTime(Date.parse(r.activated_at))}` : ''})` : '',
      `, calls from ${formatTime(Date.parse(r.from))}.`,
    );
    const parts = [head, ...r.by_mode.map(modeTable)];
    if (r.by_mode.length === 0) parts.push(h('p', { class: 'muted small-text' }, r.notes[0] ?? 'No gateway calls under this policy yet.'));
    else parts.push(h('p', { class: 'muted small-text' }, r.notes.join(' ')));
    clear(body).append(...parts);
  }
  void refresh();
  return { el, refresh };
}

// One agent run in the conversation: its streamed steps (triage, tool calls with durations and result summaries, specialist
// updates, partial results, LLM fallbacks) and its final report, rendered as the events arrive. Event payloads:
// docs/PROTOCOL.md ("Run events"). All server text goes in via textContent, except report text (markdown.js escapes first).

import { h } from './dom.js';
import { formatByKey, formatCount, formatMs, formatTime } from './format.js';
import { renderMarkdown } from './markdown.js';

const TERMINAL = new Set(['agent_completed', 'agent_error', 'agent_stopped']);
export const isTerminal = (type) => TERMINAL.has(type);

const words = (s) => String(s ?? '').replace(/_/g, ' ');

/** "events 2,000 · spend $10.28 · models 6": the scalar fields of a result, formatted by their key's unit. */
export function summarize(obj, max = 5) {
  if (obj === null || obj === undefined) return '';
  if (typeof obj !== 'object') return String(obj);
  const parts = [];
  for (const [k, v] of Object.entries(obj)) {
    if (parts.length >= max) break;
    if (k === 'agent' || k === 'run_id' || k === 'workspace') continue;
    if (typeof v === 'number') parts.push(`${words(k.replace(/_(usd|ms)$/, ''))} ${formatByKey(k, v)}`);
    else if (typeof v === 'string' && v.length <= 60) parts.push(`${words(k)} ${v}`);
    else if (typeof v === 'boolean') parts.push(`${words(k)} ${v ? 'yes' : 'no'}`);
    else if (Array.isArray(v))
      parts.push(
        `${words(k)}: ${v.length === 0 ? 'none' : v.every((x) => typeof x === 'string') && v.join(', ').length <= 60 ? v.join(', ') : `${v.length} items`}`,
      );
  }
  return parts.join(' · ');
}

/**
 * Creates the view of one run. `onAnswer(text)` sends a reply in the run's thread (approval Confirm/Cancel).
 * Returns { el, apply(event), done, lastEventId, setReport(content) }.
 */
export function createRunView({ runId, onAnswer, onShowSteps }) {
  const stepList = h('ol', { class: 'steps' });
  const summaryText = h('span', {}, 'Working…');
  const details = h('details', { class: 'run-steps', open: true }, h('summary', {}, summaryText), stepList);
  const notices = h('div', { class: 'run-notices' });
  const report = h('div', { class: 'report', hidden: true });
  const status = h('p', { class: 'run-status', role: 'status' });
  const el = h('li', { class: 'msg msg-agent', dataset: { runId } }, details, notices, report, status);
  const toolRows = new Map();
  let steps = 0;
  /** a finished run shown from history: its steps are replayed only on request, and stay open once asked for */
  let fromHistory = false;

  const view = { el, done: false, lastEventId: 0, status: 'running', apply, setReport, setFinished };

  function step(kind, ...content) {
    steps++;
    const row = h('li', { class: `step step-${kind}` }, ...content);
    stepList.append(row);
    if (!view.done) summaryText.textContent = `Working… ${steps} step${steps === 1 ? '' : 's'}`;
    return row;
  }
  const tag = (text, cls = '') => h('span', { class: `tag ${cls}` }, text);

  function setReport(content, payload = {}) {
    report.hidden = false;
    report.replaceChildren();
    const body = h('div', { class: 'report-body' });
    body.innerHTML = renderMarkdown(content); // escaped first: see markdown.js
    report.append(body);
    if (payload.approval_required) {
      const confirm = h('button', { type: 'button', class: 'primary' }, 'Confirm');
      const cancel = h('button', { type: 'button' }, 'Cancel');
      const answer = (text) => {
        confirm.disabled = true;
        cancel.disabled = true;
        onAnswer(text);
      };
      confirm.addEventListener('click', () => answer('yes'));
      // "cancel", not "no": the supervisor refuses requests under 3 characters before it looks at a pending approval
      cancel.addEventListener('click', () => answer('cancel'));
      report.append(
        h(
          'div',
          { class: 'approval', role: 'group', 'aria-label': 'Approval' },
          h('span', {}, `Approval needed: ${words(payload.action ?? 'this action')}`),
          confirm,
          cancel,
        ),
      );
    }
  }

  /** Marks a run whose steps were not streamed here (history): status only, with a way to replay its steps. */
  function setFinished(runStatus, error) {
    view.done = true;
    view.status = runStatus;
    fromHistory = true;
    summaryText.textContent = `Steps (${words(runStatus)})`;
    details.open = false;
    if (onShowSteps && steps === 0) {
      details.addEventListener(
        'toggle',
        () => {
          if (details.open && steps === 0) onShowSteps();
        },
        { once: true },
      );
    }
    if (runStatus === 'failed') status.textContent = `Failed: ${error ?? 'unknown error'}`;
    else if (runStatus === 'cancelled') status.textContent = 'Stopped.';
  }

  function finish(kind, text) {
    view.done = true;
    view.status = kind;
    summaryText.textContent = `${steps} step${steps === 1 ? '' : 's'} · ${kind}`;
    if (!fromHistory) details.open = false;
    status.className = `run-status run-${kind}`;
    status.textContent = text;
  }

  function apply(ev) {
    if (typeof ev.event_id === 'number') {
      if (ev.event_id <= view.lastEventId) return; // already shown (resume replays only later ones; this guards anyway)
      view.lastEventId = ev.event_id;
    }
    const p = ev.payload ?? {};
    const at = ev.ts ? h('time', { datetime: ev.ts }, formatTime(ev.ts)) : null;
    switch (ev.type) {
      case 'agent_started':
        // a replay (history) starts again from the first step
        stepList.replaceChildren();
        steps = 0;
        toolRows.clear();
        step('start', tag('run'), 'Started', at);
        break;
      case 'agent_thinking': {
        if (p.triage) {
          const t = p.triage;
          const suff = p.sufficiency
            ? `data ${p.sufficiency.level}${typeof p.sufficiency.events === 'number' ? ` (${formatCount(p.sufficiency.events)} events)` : ''}`
            : null;
          step(
            'thinking',
            tag('triage'),
            [`category ${words(t.category)}`, `goal ${t.goal}`, suff].filter(Boolean).join(' · '),
            Array.isArray(p.chain) ? h('span', { class: 'chain' }, ` plan: ${p.chain.join(' → ')}`) : null,
          );
          if (p.sufficiency?.missing?.length)
            step('note', tag('missing data'), p.sufficiency.missing.map((m) => m.how ?? m.impact ?? '').join('; '));
        } else {
          step(
            'thinking',
            tag('plan'),
            [p.pipeline && `pipeline ${words(p.pipeline)}`, p.action && `action ${words(p.action)}`, p.decision && `decision ${p.decision}`]
              .filter(Boolean)
              .join(' · ') || 'thinking',
          );
        }
        break;
      }
      case 'tool_executing': {
        const detail = h('span', { class: 'tool-detail' }, 'running…');
        const row = step('tool', tag(p.agent ?? 'agent'), h('span', { class: 'tool-name' }, p.tool ?? 'tool'), detail);
        toolRows.set(`${p.agent}:${p.tool}`, { row, detail });
        break;
      }
      case 'tool_completed': {
        const key = `${p.agent}:${p.tool}`;
        const found = toolRows.get(key);
        const text = [typeof p.duration_ms === 'number' ? formatMs(p.duration_ms) : null, summarize(p.result)].filter(Boolean).join(' — ');
        if (found) {
          found.detail.textContent = text || 'done';
          found.row.classList.add('step-done');
          toolRows.delete(key);
        } else
          step(
            'tool',
            tag(p.agent ?? 'agent'),
            h('span', { class: 'tool-name' }, p.tool ?? 'tool'),
            h('span', { class: 'tool-detail' }, text),
          );
        break;
      }
      case 'sub_agent_update':
        step(
          'agent',
          tag(p.agent ?? 'agent'),
          words(p.status ?? 'update'),
          p.status === 'completed' ? h('span', { class: 'muted' }, ` ${summarize({ ...p, status: undefined, goal: undefined }, 3)}`) : null,
        );
        break;
      case 'partial_result':
        step('partial', tag(p.agent ?? 'agent'), 'result: ', summarize(p, 4) || 'received');
        break;
      case 'agent_fallback':
        notices.append(
          h(
            'p',
            { class: 'notice notice-warn', role: 'status' },
            `LLM fallback: ${p.from ?? 'a provider'} failed (${words(p.error_kind ?? 'error')}${p.http_status ? `, HTTP ${p.http_status}` : ''}: ${p.reason ?? ''}); ${p.to ? `trying ${p.to}` : 'no provider left'}.`,
          ),
        );
        step('fallback', tag('fallback', 'tag-warn'), `${p.from ?? '?'} → ${p.to ?? '—'}`);
        break;
      case 'final_report':
        setReport(typeof p.content === 'string' ? p.content : '', p);
        step('report', tag('report'), 'Final report ready');
        break;
      case 'agent_completed':
        finish('completed', '');
        break;
      case 'agent_error':
        finish('failed', `Failed: ${p.message ?? 'the run failed'}${p.code ? ` (${p.code})` : ''}`);
        break;
      case 'agent_stopped':
        finish('stopped', `Stopped${p.reason ? `: ${p.reason}` : '.'}`);
        break;
      default:
        step('other', tag(words(ev.type)), summarize(p, 3));
    }
  }

  return view;
}

// The chat view over the /ws WebSocket (docs/PROTOCOL.md): the token rides in the `jwt.<token>` subprotocol (browsers
// cannot set headers); threads are listed, created, switched, renamed and deleted; a message starts a run whose events
// stream into a run view (run-view.js); Stop sends stop_agent; after a dropped connection the client reconnects with
// backoff and sends `resume` with the last event_id it saw, so no step is lost or shown twice.

import { accessToken, renew } from './api.js';
import { $, clear, h } from './dom.js';
import { formatTime } from './format.js';
import { createRunView, isTerminal } from './run-view.js';

const MAX_BACKOFF_MS = 10_000;

export function createChat() {
  const els = {
    list: $('thread-list'),
    messages: $('messages'),
    title: $('thread-title'),
    conn: $('conn-status'),
    form: $('composer'),
    input: $('message'),
    send: $('send'),
    stop: $('stop'),
    newThread: $('new-thread'),
    rename: $('rename-thread'),
    del: $('delete-thread'),
  };
  let ws = null;
  let workspace = null;
  let connected = false;
  let canRun = true;
  let attempts = 0;
  let reconnectTimer = null;
  let threads = [];
  let currentThread = null;
  /** run_id → run view of the runs shown in the current thread */
  const runs = new Map();
  /** the running run of the current thread (Stop targets it) */
  let activeRun = null;
  let seq = 0;
  /** a refused credential is renewed once per successful connection (no renew loop) */
  let renewedSinceConnect = false;

  function setConn(text) {
    els.conn.textContent = text;
  }
  function updateControls() {
    els.stop.disabled = !activeRun || !connected;
    els.send.disabled = !connected || !canRun;
    els.input.disabled = !canRun;
    els.rename.disabled = !currentThread || !canRun;
    els.del.disabled = !currentThread || !canRun;
    els.newThread.disabled = !connected || !canRun;
  }

  function send(type, payload) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type, ...(payload ? { payload } : {}), request_id: `ui-${++seq}` }));
    return true;
  }

  // ── connection ──
  function connect(ws_) {
    workspace = ws_;
    disconnect();
    open();
  }

  function open() {
    const token = accessToken();
    if (!token || !workspace) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?workspace=${encodeURIComponent(workspace)}`;
    setConn(attempts === 0 ? 'Connecting…' : `Reconnecting (attempt ${attempts})…`);
    const socket = new WebSocket(url, [`jwt.${token}`]);
    ws = socket;
    socket.addEventListener('message', (e) => {
      if (ws === socket) onMessage(e.data);
    });
    socket.addEventListener('close', (e) => {
      if (ws === socket) onClose(e);
    });
  }

  function disconnect() {
    clearTimeout(reconnectTimer);
    const old = ws;
    ws = null;
    connected = false;
    if (old && old.readyState <= WebSocket.OPEN) old.close(1000, 'client closed');
    updateControls();
  }

  async function onClose(e) {
    ws = null;
    connected = false;
    updateControls();
    // 1008 for the credential (an expired token): renew it once, then reconnect; any other 1008 is final
    if (e.code === 1008 && /not valid|authentication required/i.test(e.reason) && !renewedSinceConnect) {
      renewedSinceConnect = true;
      try {
        await renew();
      } catch {
        setConn('Signed out: sign in again.');
        return;
      }
    } else if (e.code === 1008) {
      setConn(`Connection refused: ${e.reason}`);
      return;
    }
    attempts++;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempts, 6));
    setConn(`Disconnected; reconnecting in ${Math.round(delay / 1000) || 1} s…`);
    reconnectTimer = setTimeout(open, delay);
  }

  function onMessage(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    const p = m.payload ?? {};
    switch (m.type) {
      case 'connection_established':
        connected = true;
        canRun = p.can_run !== false;
        attempts = 0;
        renewedSinceConnect = false;
        setConn(canRun ? `Connected to ${p.workspace}` : `Connected to ${p.workspace} (read-only)`);
        send('list_threads');
        // after a reconnect: pick up the running run where we left it
        if (currentThread && activeRun)
          send('resume', { thread_id: currentThread.id, run_id: activeRun.runId, after_event_id: activeRun.view.lastEventId });
        updateControls();
        break;
      case 'heartbeat':
        send('pong');
        break;
      case 'thread_list':
        threads = p.threads ?? [];
        renderThreads();
        break;
      case 'thread_created':
        // from New, or from a first message sent without a thread: either way it becomes the current thread
        threads = [p.thread, ...threads.filter((t) => t.id !== p.thread.id)];
        showThread(p.thread, [], [], { keepMessages: true });
        renderThreads();
        break;
      case 'thread_renamed':
        threads = threads.map((t) => (t.id === p.thread.id ? p.thread : t));
        if (currentThread?.id === p.thread.id) {
          currentThread = p.thread;
          els.title.textContent = p.thread.title;
        }
        renderThreads();
        break;
      case 'thread_deleted':
        threads = threads.filter((t) => t.id !== p.thread_id);
        if (currentThread?.id === p.thread_id) newConversation();
        renderThreads();
        break;
      case 'thread_switched':
      case 'thread_history':
        showThread(p.thread, p.messages ?? [], p.runs ?? []);
        renderThreads();
        break;
      case 'run_accepted': {
        const view = viewOf(p.run_id);
        activeRun = { runId: p.run_id, view };
        updateControls();
        break;
      }
      case 'error':
        notice(`${p.message ?? 'error'}${p.code ? ` (${p.code})` : ''}`, 'error');
        break;
      case 'pong':
        break;
      default:
        if (m.run_id) onRunEvent(m);
    }
  }

  function onRunEvent(m) {
    if (currentThread && m.thread_id && m.thread_id !== currentThread.id) return; // another thread's run
    const view = viewOf(m.run_id);
    view.apply(m);
    if (isTerminal(m.type) && activeRun?.runId === m.run_id) {
      activeRun = null;
      updateControls();
      send('list_threads'); // titles and order change with activity
    }
    scrollToEnd();
  }

  function viewOf(runId) {
    let view = runs.get(runId);
    if (!view) {
      view = createRunView({
        runId,
        onAnswer: (text) => sendMessage(text),
        onShowSteps: () => currentThread && send('resume', { thread_id: currentThread.id, run_id: runId, after_event_id: 0 }),
      });
      runs.set(runId, view);
      els.messages.append(view.el);
    }
    return view;
  }

  // ── threads ──
  function renderThreads() {
    clear(els.list);
    if (threads.length === 0) {
      els.list.append(h('li', { class: 'muted small-text empty' }, 'No conversations yet.'));
      return;
    }
    for (const t of threads) {
      const current = currentThread?.id === t.id;
      els.list.append(
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `thread${current ? ' current' : ''}`,
              'aria-current': current ? 'true' : undefined,
              onclick: () => send('switch_thread', { thread_id: t.id }),
            },
            h('span', { class: 'thread-title' }, t.title || 'Untitled'),
            h('span', { class: 'thread-time' }, formatTime(t.updated_at ?? t.created_at)),
          ),
        ),
      );
    }
  }

  function showThread(thread, messages, runList, { keepMessages = false } = {}) {
    currentThread = thread;
    els.title.textContent = thread.title || 'Untitled';
    if (!keepMessages) {
      runs.clear();
      activeRun = null;
      clear(els.messages);
      const byRun = new Map(runList.map((r) => [r.id, r]));
      const answered = new Set(messages.filter((x) => x.role === 'assistant').map((x) => x.run_id));
      for (const msg of messages) {
        if (msg.role === 'user') {
          els.messages.append(userBubble(msg.content));
          const run = msg.run_id ? byRun.get(msg.run_id) : undefined;
          if (run && !answered.has(run.id)) historyRun(run);
        } else if (msg.run_id) {
          const run = byRun.get(msg.run_id);
          const view = viewOf(msg.run_id);
          view.setReport(msg.content, {});
          view.setFinished(run?.status ?? 'completed', run?.error);
        }
      }
    }
    updateControls();
    scrollToEnd();
  }

  function historyRun(run) {
    const view = viewOf(run.id);
    if (run.status === 'queued' || run.status === 'running') {
      activeRun = { runId: run.id, view };
      send('resume', { thread_id: currentThread.id, run_id: run.id, after_event_id: 0 });
    } else view.setFinished(run.status, run.error);
  }

  function newConversation() {
    currentThread = null;
    activeRun = null;
    runs.clear();
    clear(els.messages);
    els.title.textContent = 'New conversation';
    updateControls();
    renderThreads();
  }

  // ── messages ──
  function userBubble(text) {
    return h('li', { class: 'msg msg-user' }, h('p', {}, text));
  }
  function notice(text, kind) {
    els.messages.append(h('li', { class: `msg notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
    scrollToEnd();
  }
  function scrollToEnd() {
    els.messages.scrollTop = els.messages.scrollHeight;
  }

  function sendMessage(text) {
    const content = text.trim();
    if (!content) return false;
    if (!connected) {
      notice('Not connected yet: the message was not sent.', 'error');
      return false;
    }
    els.messages.append(userBubble(content));
    send('user_message', { content, ...(currentThread ? { thread_id: currentThread.id } : {}) });
    scrollToEnd();
    return true;
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (sendMessage(els.input.value)) els.input.value = '';
    els.input.focus();
  });
  els.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      els.form.requestSubmit();
    }
  });
  els.stop.addEventListener('click', () => {
    if (activeRun) send('stop_agent', { run_id: activeRun.runId });
  });
  els.newThread.addEventListener('click', () => {
    newConversation();
    send('create_thread', {});
    els.input.focus();
  });
  els.rename.addEventListener('click', () => {
    if (!currentThread) return;
    const title = window.prompt('Rename conversation', currentThread.title ?? '');
    if (title?.trim()) send('rename_thread', { thread_id: currentThread.id, title: title.trim().slice(0, 200) });
  });
  els.del.addEventListener('click', () => {
    if (currentThread && window.confirm(`Delete “${currentThread.title}” and its messages?`))
      send('delete_thread', { thread_id: currentThread.id });
  });

  updateControls();
  return { connect, disconnect, focus: () => els.input.focus() };
}

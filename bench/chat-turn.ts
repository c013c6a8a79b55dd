/**
 * Benchmark: one chat turn over WebSocket with the built-in model, over N stored events (targets: first
 * run event < 50 ms, final report < 1.5 s over 1M events).
 *
 *   node --import tsx bench/chat-turn.ts                  # 1,000,000 events (five presets, 200k each, 7 days)
 *   node --import tsx bench/chat-turn.ts --smoke          # 50,000 events
 *   node --import tsx bench/chat-turn.ts --events 200000
 *   BENCH_PROFILE=/tmp/turn.cpuprofile node --import tsx bench/chat-turn.ts   # CPU profile of the first cold turn
 *
 * Setup: the real app (createApp: PGlite, file-backed DuckDB in a temp data dir, in-memory query cache, built-in
 * model, startup tasks off) generates the events with app.generate (every preset, N/5 each, seeds 11..15, 7 days) and is
 * closed. Then, per question, five cases; in each a client connects to /ws with the local owner's token (a new thread)
 * and sends `user_message`; the clock starts at the send:
 *   cold           the app started again on the same directory with the precompute disabled (empty query cache)
 *   warm           the same question again in that app (its query cache holds the cold turn's results)
 *   precomputed    an app with the precompute enabled (the default): N/1000 more events are ingested (app.generate, the
 *                  app's append path), the bench waits for the precompute to finish (precompute.whenIdle()), then asks
 *   right after ingest   another batch ingested, the question sent at once: inside the debounce (5 s) nothing new is
 *                  precomputed; the turn is answered from the last completed precompute, labelled "Figures as of ..."
 *                  (NETRA_PRECOMPUTE_STALE_MAX_MS, default 10 min; with 0 it computes what it needs itself)
 *   during precompute    another batch ingested, the question sent as soon as the precompute has started: answered
 *                  from the last completed precompute too (with the bound at 0 it awaits the computations in flight)
 * Measured: run_accepted, the first run event (agent_started), final_report and agent_completed; the tool_completed
 * events give the time of each analysis call; the precompute's own duration is printed too.
 * Baselines in the same run: a `ping` round trip through the same gateway, and `store.stats()` (one scan of the events).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { PRESET_NAMES } from '../src/corpus/generator.js';
import type { AnalysisPrecompute } from '../src/services/analysis-precompute.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 50_000 : 1_000_000;
const QUESTIONS = smoke
  ? ['Where does my money go?']
  : ['Where does my money go?', 'Reduce latency by 3x', 'What happens if my traffic grows 5x?'];
const WORKSPACE = 'bench';
const profilePath = process.env.BENCH_PROFILE;

const dir = mkdtempSync(join(tmpdir(), 'netra-bench-chat-'));
const sink = new Writable({
  write(_c, _e, cb) {
    cb();
  },
});
const configOf = (precompute: boolean) =>
  parseConfig({
    dataDir: dir,
    port: 0,
    seedDemo: false,
    logLevel: 'warn',
    startup: { enabled: false },
    cache: { enabled: true },
    precompute: { enabled: precompute },
  });
const start = (precompute = false): Promise<App> => createApp(configOf(precompute), { logDestination: sink });
const precomputeOf = (app: App): AnalysisPrecompute => app.precompute;
const BATCH = Math.max(1_000, Math.floor(N / 1_000));
const END = Date.UTC(2026, 10, 16);
let batchSeed = 100;
/** N/1000 more events into the workspace through the app's append path (what triggers the precompute). */
const ingestBatch = (app: App) =>
  app.generate({
    preset: PRESET_NAMES[batchSeed % PRESET_NAMES.length]!,
    events: BATCH,
    days: 1,
    seed: batchSeed++,
    workspace: WORKSPACE,
    end: END,
  });

interface Env {
  type: string;
  payload: Record<string, unknown>;
  event_id?: number;
}

/** Connects to /ws and records every envelope with its arrival time. */
async function connect(base: string, token: string) {
  const ws = new WebSocket(`${base}/ws?workspace=${WORKSPACE}`, [], { headers: { authorization: `Bearer ${token}` } });
  const got: { at: number; e: Env }[] = [];
  const waiters: { pred: (e: Env) => boolean; res: (at: number) => void }[] = [];
  ws.on('message', (d: Buffer) => {
    const at = performance.now();
    const e = JSON.parse(d.toString()) as Env;
    got.push({ at, e });
    for (const w of [...waiters])
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.res(at);
      }
  });
  const wait = (pred: (e: Env) => boolean): Promise<number> => {
    const seen = got.find((g) => pred(g.e));
    return seen ? Promise.resolve(seen.at) : new Promise((res) => waiters.push({ pred, res }));
  };
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  await wait((e) => e.type === 'connection_established');
  return { ws, got, wait };
}

type Case = 'cold' | 'warm' | 'precomputed' | 'right after ingest' | 'during precompute';
interface Turn {
  question: string;
  cache: Case;
  accepted_ms: number;
  first_event_ms: number;
  final_report_ms: number;
  completed_ms: number;
  tools: string;
}

async function turn(base: string, token: string, question: string, cache: Case): Promise<Turn> {
  const c = await connect(base, token);
  const t0 = performance.now();
  c.ws.send(JSON.stringify({ type: 'user_message', payload: { content: question } }));
  const accepted = await c.wait((e) => e.type === 'run_accepted');
  const first = await c.wait((e) => e.event_id !== undefined);
  const end = await Promise.race([
    c.wait((e) => e.type === 'agent_completed'),
    c
      .wait((e) => e.type === 'agent_error')
      .then(() => {
        throw new Error(`run failed: ${JSON.stringify(c.got.find((g) => g.e.type === 'agent_error')?.e.payload)}`);
      }),
  ]);
  const report = c.got.find((g) => g.e.type === 'final_report');
  if (!report) throw new Error('no final_report before agent_completed');
  const firstType = c.got.find((g) => g.e.event_id !== undefined)!.e.type;
  if (firstType !== 'agent_started') throw new Error(`first run event is ${firstType}, expected agent_started`);
  const tools = c.got
    .filter((g) => g.e.type === 'tool_completed')
    .map((g) => `${g.e.payload.agent}.${g.e.payload.tool} ${g.e.payload.duration_ms}`)
    .join(', ');
  c.ws.close();
  const ms = (t: number) => Math.round((t - t0) * 10) / 10;
  return {
    question,
    cache,
    accepted_ms: ms(accepted),
    first_event_ms: ms(first),
    final_report_ms: ms(report.at),
    completed_ms: ms(end),
    tools,
  };
}

try {
  // 1. the events, generated by the app itself into its DuckDB file
  const t0 = performance.now();
  const gen = await start();
  for (const [i, preset] of PRESET_NAMES.entries()) {
    await gen.generate({ preset, events: Math.floor(N / PRESET_NAMES.length), days: 7, seed: 11 + i, workspace: WORKSPACE, end: END });
  }
  const stored = (await gen.store.stats({ workspace: WORKSPACE })).events;
  await gen.close();
  console.error(`generated ${stored} events (${PRESET_NAMES.length} presets) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // 2. per question: a fresh app (cold query cache), one turn, then the same question in a new thread (warm)
  const turns: Turn[] = [];
  const precomputes: { question: string; after: string; duration_ms: number; replays: number; replay_failures: number }[] = [];
  let baseline: { ping_ms: number; stats_scan_ms: number } | null = null;
  for (const [qi, question] of QUESTIONS.entries()) {
    const tStart = performance.now();
    const app = await start();
    const base = (await app.listen()).replace(/^http/, 'ws');
    const startMs = Math.round(performance.now() - tStart);
    const token = await app.accounts.identity.issueAccessToken(app.accounts.identity.localOwnerId());
    let session: Session | null = null;
    if (profilePath && qi === 0) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    turns.push(await turn(base, token, question, 'cold'));
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profilePath!, JSON.stringify(profile));
      session.disconnect();
      console.error(`CPU profile of the cold turn: ${profilePath}`);
    }
    turns.push(await turn(base, token, question, 'warm'));
    if (qi === 0) {
      const timings = app.store
        .queryTimings()
        .filter((t) => t.kind !== 'stats')
        .map((t) => `${t.kind} ${Math.round(t.duration_ms)}`);
      console.error(`store queries of the cold turn (ms): ${timings.join(', ')}`);
      // baselines, after the turns (a scan first would warm DuckDB's buffers for the cold turn)
      const c = await connect(base, token);
      const pings: number[] = [];
      for (let i = 0; i < 20; i++) {
        const s = performance.now();
        c.ws.send(JSON.stringify({ type: 'ping', request_id: `p${i}` }));
        await c.wait((e) => e.type === 'pong' && (e as { request_id?: string }).request_id === `p${i}`);
        pings.push(performance.now() - s);
      }
      c.ws.close();
      pings.sort((a, b) => a - b);
      let scan = Infinity;
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        await app.store.stats({ workspace: WORKSPACE });
        scan = Math.min(scan, performance.now() - s);
      }
      baseline = { ping_ms: Math.round(pings[Math.floor(pings.length / 2)]! * 100) / 100, stats_scan_ms: Math.round(scan) };
    }
    await app.close();
    console.error(`app start ${startMs} ms`);

    // 3. the same question in an app with the precompute (the default)
    const papp = await start(true);
    const pbase = (await papp.listen()).replace(/^http/, 'ws');
    const ptoken = await papp.accounts.identity.issueAccessToken(papp.accounts.identity.localOwnerId());
    const pre = precomputeOf(papp);
    const lastRun = (after: string) => {
      const l = pre.status().last!;
      precomputes.push({ question, after, duration_ms: l.duration_ms, replays: l.replays, replay_failures: l.replay_failures });
      if (l.outcome !== 'ok') throw new Error(`precompute ${l.outcome}: ${l.reason ?? ''}`);
    };
    // precomputed: ingest, wait for the precompute (debounce + computation), ask
    await ingestBatch(papp);
    const tIngest = performance.now();
    await pre.whenIdle();
    console.error(
      `precompute after ingest: idle ${Math.round(performance.now() - tIngest)} ms after the ingest (debounce ${papp.config.precompute.debounceMs} ms)`,
    );
    lastRun('ingest');
    turns.push(await turn(pbase, ptoken, question, 'precomputed'));
    // right after ingest: inside the debounce, the turn computes itself (the precompute then finds its entries)
    await ingestBatch(papp);
    turns.push(await turn(pbase, ptoken, question, 'right after ingest'));
    await pre.whenIdle();
    lastRun('ingest + a turn');
    // during precompute: ask as soon as the precompute has started
    await ingestBatch(papp);
    while (pre.status().running === null) await new Promise((r) => setTimeout(r, 5));
    turns.push(await turn(pbase, ptoken, question, 'during precompute'));
    await pre.whenIdle();
    lastRun('ingest, a turn during it');
    await papp.close();
  }

  console.log(
    `\nchat turn over ${stored} events (+ ${BATCH} per later ingest; built-in model, DuckDB file store, in-memory query cache); ms from user_message sent`,
  );
  console.log('| question | cache | run_accepted | first event (agent_started) | final_report | agent_completed |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const t of turns)
    console.log(`| ${t.question} | ${t.cache} | ${t.accepted_ms} | ${t.first_event_ms} | ${t.final_report_ms} | ${t.completed_ms} |`);
  console.log('\n| question | precompute run after | duration (ms) | replays |');
  console.log('| --- | --- | ---: | ---: |');
  for (const p of precomputes) console.log(`| ${p.question} | ${p.after} | ${p.duration_ms} | ${p.replays} (${p.replay_failures}) |`);
  for (const t of turns) console.error(`tools (${t.question}, ${t.cache}): ${t.tools}`);
  const cold = turns.find((t) => t.cache === 'cold')!;
  const pick = (c: Case) => turns.find((t) => t.cache === c)!;
  console.log(
    JSON.stringify({
      bench: 'chat-turn',
      events: stored,
      cold_first_event_ms: cold.first_event_ms,
      cold_final_report_ms: cold.final_report_ms,
      warm_final_report_ms: pick('warm').final_report_ms,
      precomputed_first_event_ms: pick('precomputed').first_event_ms,
      precomputed_final_report_ms: pick('precomputed').final_report_ms,
      right_after_ingest_final_report_ms: pick('right after ingest').final_report_ms,
      during_precompute_final_report_ms: pick('during precompute').final_report_ms,
      precompute_ms: precomputes[0]?.duration_ms,
      baseline_ws_ping_p50_ms: baseline?.ping_ms,
      baseline_stats_scan_ms: baseline?.stats_scan_ms,
      ratio_cold_report_vs_stats_scan: baseline ? Number((cold.final_report_ms / baseline.stats_scan_ms).toFixed(1)) : null,
      ratio_precomputed_vs_cold_report: Number((pick('precomputed').final_report_ms / cold.final_report_ms).toFixed(3)),
      targets: { first_event_ms: 50, final_report_ms: 1500 },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

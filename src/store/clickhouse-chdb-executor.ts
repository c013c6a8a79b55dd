/**
 * The embedded ClickHouse executor: chdb (ClickHouse in-process, `Session` over a data directory). Used by the tests
 * to prove the ClickHouse store's SQL without a server. chdb is a devDependency (≈ 540 MB): it is imported lazily
 * here, when an executor is opened, so production code that never opens one never loads it.
 *
 * libchdb binds one data directory per process; sessions on the same path share it. Tests therefore open every
 * store on one path and give each its own database. Calls are serialised per executor (one statement at a time on
 * a session) and run off the event loop (chdb's async API).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { CLIENT_SETTINGS, type ClickHouseExecutor, type Params, type Row, type Settings } from './clickhouse-executor.js';

interface ChdbResult {
  text(): string;
}
interface ChdbStreamChunk {
  rows<T>(): T[];
}
interface ChdbSession {
  queryBindAsync(sql: string, params: object, opts: { format: string }): Promise<ChdbResult>;
  queryStreamBind(sql: string, params: object, opts: { format: string }): AsyncIterable<ChdbStreamChunk>;
  insert(p: { table: string; values: string; format: 'JSONEachRow'; settings?: Settings }): Promise<unknown>;
  close(): void;
}
interface ChdbModule {
  Session: new (path: string, opts?: { connectionArgs?: readonly string[] }) => ChdbSession;
}

function loadChdb(): ChdbModule {
  try {
    return createRequire(import.meta.url)('chdb') as ChdbModule;
  } catch (err) {
    throw new Error(
      `the embedded ClickHouse engine (chdb) is not installed: it is a development dependency used by the tests (${(err as Error).message})`,
    );
  }
}

/** `SETTINGS a = 1, b = 'x'` for a statement (names and values are ours, never user input). */
function settingsClause(settings: Settings): string {
  const parts = Object.entries(settings).map(([k, v]) => {
    if (!/^[a-z_0-9]+$/.test(k)) throw new Error(`bad setting name ${k}`);
    return `${k} = ${typeof v === 'string' ? `'${v.replace(/[\\']/g, '\\$&')}'` : typeof v === 'boolean' ? Number(v) : v}`;
  });
  return parts.length ? ` SETTINGS ${parts.join(', ')}` : '';
}

const parseLines = (text: string): Row[] => {
  const out: Row[] = [];
  for (const line of text.split('\n')) if (line.length > 0) out.push(JSON.parse(line) as Row);
  return out;
};

export class ChdbExecutor implements ClickHouseExecutor {
  readonly kind = 'chdb' as const;
  readonly target: string;
  private session: ChdbSession | null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    mkdirSync(path, { recursive: true });
    this.target = `chdb:${path}`;
    const args = Object.entries(CLIENT_SETTINGS).map(([k, v]) => `--${k}=${v}`);
    this.session = new (loadChdb().Session)(path, { connectionArgs: args });
  }

  /** One call at a time on the session. */
  private run<T>(fn: (s: ChdbSession) => Promise<T>): Promise<T> {
    const go = () => {
      if (!this.session) throw new Error('the chdb session is closed');
      return fn(this.session);
    };
    const p = this.tail.then(go, go);
    this.tail = p.catch(() => undefined);
    return p;
  }

  async command(sql: string, params: Params = {}, settings: Settings = {}): Promise<void> {
    await this.run((s) => s.queryBindAsync(sql + settingsClause(settings), params, { format: 'JSONEachRow' }));
  }

  query<T = Row>(sql: string, params: Params = {}, settings: Settings = {}): Promise<T[]> {
    return this.run(
      async (s) => parseLines((await s.queryBindAsync(sql + settingsClause(settings), params, { format: 'JSONEachRow' })).text()) as T[],
    );
  }

  stream(sql: string, params: Params, onRows: (rows: Row[]) => void): Promise<void> {
    return this.run(async (s) => {
      for await (const chunk of s.queryStreamBind(sql, params, { format: 'JSONEachRow' })) {
        const rows = chunk.rows<Row>();
        if (rows.length > 0) onRows(rows);
      }
    });
  }

  async insertJsonEachRow(table: string, body: string, settings: Settings = {}): Promise<void> {
    await this.run((s) => s.insert({ table, values: body, format: 'JSONEachRow', settings }));
  }

  async close(): Promise<void> {
    await this.run(async (s) => {
      s.close();
      this.session = null;
    }).catch(() => undefined);
  }
}

/** Opens a chdb session over `path` (created when missing). */
export function createChdbExecutor(path: string): ClickHouseExecutor {
  return new ChdbExecutor(path);
}

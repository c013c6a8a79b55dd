/**
 * How the ClickHouse store talks to ClickHouse: a small executor interface (statements, row queries, streamed
 * reads, JSONEachRow inserts) and its production implementation over HTTP with `@clickhouse/client`
 * (CLICKHOUSE_URL). The embedded implementation for tests (chdb, in-process) is clickhouse-chdb-executor.ts.
 *
 * Every value reaches ClickHouse as a bound query parameter (`{name:Type}` in the SQL text, `params` here); rows
 * come back as JSONEachRow objects. Both implementations apply the same settings (CLIENT_SETTINGS) so that
 * 64-bit integers arrive as JSON numbers and NaN/inf (empty quantiles, avg of nothing) arrive as null.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { maskUrl } from '../config.js';

export type Row = Record<string, unknown>;
export type Params = Record<string, unknown>;
export type Settings = Record<string, string | number | boolean>;

export interface ClickHouseExecutor {
  readonly kind: 'http' | 'chdb';
  /** where it points (URL with the password masked, or the chdb data path), for health details */
  readonly target: string;
  /** Runs a statement that returns no rows (DDL, ALTER, DELETE, INSERT ... SELECT). */
  command(sql: string, params?: Params, settings?: Settings): Promise<void>;
  /** Runs a query and returns every row. */
  query<T = Row>(sql: string, params?: Params, settings?: Settings): Promise<T[]>;
  /** Runs a query and hands its rows over in chunks, in result order. */
  stream(sql: string, params: Params, onRows: (rows: Row[]) => void): Promise<void>;
  /** Inserts newline-separated JSONEachRow rows into a table (one INSERT: one part per partition). */
  insertJsonEachRow(table: string, body: string, settings?: Settings): Promise<void>;
  close(): Promise<void>;
}

/** Settings both executors apply to every query (JSON output shape; timestamp input). */
export const CLIENT_SETTINGS: Settings = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
  date_time_input_format: 'best_effort',
};

export interface HttpExecutorOptions {
  /** http(s)://user:password@host:port; a path (/db) is ignored here: the store's database is configured separately */
  url: string;
  /** per-request timeout (default 300 s: analyses over large windows) */
  requestTimeoutMs?: number;
  /** connection pool size of the HTTP agent (default 10) */
  maxOpenConnections?: number;
}

/** Production executor: ClickHouse's HTTP interface through @clickhouse/client. */
export class HttpExecutor implements ClickHouseExecutor {
  readonly kind = 'http' as const;
  readonly target: string;
  private readonly client: ClickHouseClient;

  constructor(opts: HttpExecutorOptions) {
    const u = new URL(opts.url);
    u.pathname = '/';
    this.target = maskUrl(u.toString()) ?? '';
    this.client = createClient({
      url: u.toString(),
      request_timeout: opts.requestTimeoutMs ?? 300_000,
      max_open_connections: opts.maxOpenConnections ?? 10,
      clickhouse_settings: CLIENT_SETTINGS as Record<string, never>,
      // the client would log to the console; every failure reaches the store as an error, which maps it to NETRA_E_STORE
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async command(sql: string, params: Params = {}, settings: Settings = {}): Promise<void> {
    await this.client.command({ query: sql, query_params: params, clickhouse_settings: settings as Record<string, never> });
  }

  async query<T = Row>(sql: string, params: Params = {}, settings: Settings = {}): Promise<T[]> {
    const rs = await this.client.query({
      query: sql,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: settings as Record<string, never>,
    });
    return rs.json<T>();
  }

  async stream(sql: string, params: Params, onRows: (rows: Row[]) => void): Promise<void> {
    const rs = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    for await (const chunk of rs.stream<Row>()) {
      if (chunk.length > 0) onRows(chunk.map((r) => r.json<Row>()));
    }
  }

  async insertJsonEachRow(table: string, body: string, settings: Settings = {}): Promise<void> {
    // the body is already JSONEachRow text: send it as one raw stream, no per-row re-serialisation
    const { Readable } = await import('node:stream');
    await this.client.insert({
      table,
      values: Readable.from([body]),
      format: 'JSONEachRow',
      clickhouse_settings: settings as Record<string, never>,
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function createHttpExecutor(opts: HttpExecutorOptions): ClickHouseExecutor {
  return new HttpExecutor(opts);
}

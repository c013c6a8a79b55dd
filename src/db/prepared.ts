/**
 * The chat's batch statements as prepared statements, so PostgreSQL plans them once per session instead of on every call.
 * Their text is the same whatever the batch (the rows travel as one JSON parameter), and they are large (several CTEs and
 * lateral lookups): planning was a fixed cost of every batch, on PGlite (PostgreSQL in wasm) a large one, and on a pooled
 * PostgreSQL a few milliseconds of the server's CPU on the acknowledgement path of every turn.
 *
 *  - PGlite is one session for the life of the process: PREPARE once per statement text, then EXECUTE with the parameter
 *    inlined as a dollar-quoted literal (no escapes inside: the text cannot end the literal, as its tag is chosen so that
 *    it does not occur in the text). A statement whose parameters are not exactly one string is run as it is.
 *  - PostgreSQL: node-postgres named statements (`{ name, text, values }`): each pooled connection prepares a name the
 *    first time it runs it (Parse once, then Bind/Execute), a new connection (recycled, or replaced after a failed ping)
 *    prepares it again. The values stay bound parameters. A connection pooler in transaction mode must forward protocol
 *    prepared statements (PgBouncer 1.21+ with `max_prepared_statements`), as for any named statement.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database, DbHandle } from './client.js';

export type Execute = (q: SQL) => Promise<unknown>;

/** What named statements need of a pool: node-postgres's `query` with a query config. */
export interface NamedQueryRunner {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

const dialect = new PgDialect();

/** Runs statements as they are. */
export function direct(db: Database): Execute {
  return (q) => db.execute(q);
}

/** The batch statements prepared on the database of `handle` (PGlite: its one session; PostgreSQL: each pooled connection). */
export function preparedStatements(handle: DbHandle): Execute {
  return handle.kind === 'postgres' && handle.pool ? named(handle.pool) : prepared(handle.db);
}

/** Runs statements of one string parameter as prepared statements of the session (PGlite only, see above). */
export function prepared(db: Database): Execute {
  const names = new Map<string, Promise<string>>();
  const prepare = (text: string): Promise<string> => {
    let name = names.get(text);
    if (!name) {
      const n = `netra_stmt_${names.size + 1}`;
      name = db.execute(sql.raw(`prepare ${n}(text) as ${text}`)).then(() => n);
      // a failed PREPARE is not remembered: the next call tries again (and fails the same way if the text is wrong)
      name.catch(() => names.delete(text));
      names.set(text, name);
    }
    return name;
  };
  return async (q) => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    const value = params[0];
    if (params.length !== 1 || typeof value !== 'string') return db.execute(q);
    const name = await prepare(text);
    return db.execute(sql.raw(`execute ${name}(${dollarQuoted(value)})`));
  };
}

/**
 * Runs statements as node-postgres named statements on `pool` (PostgreSQL, see above). One name per statement text, for the
 * life of the runner: node-postgres refuses a name reused with another text, so a name never changes text.
 */
export function named(pool: NamedQueryRunner): Execute {
  const names = new Map<string, string>();
  return (q) => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    let name = names.get(text);
    if (name === undefined) {
      name = `netra_stmt_${names.size + 1}`;
      names.set(text, name);
    }
    return pool.query({ name, text, values: params });
  };
}

/** `value` as a dollar-quoted literal: the first occurrence of its tag after the opening one is the closing one. */
export function dollarQuoted(value: string): string {
  let tag = '$v$';
  for (let i = 0; `${value}${tag}`.indexOf(tag) !== value.length; i++) tag = `$v${i.toString(36)}$`;
  return `${tag}${value}${tag}`;
}

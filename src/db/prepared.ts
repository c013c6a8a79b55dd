/**
 * Statements of one text parameter run as named prepared statements of the database session: PREPARE once per statement
 * text, then EXECUTE with the parameter inlined as a dollar-quoted literal (no escapes inside: the text cannot end the
 * literal, as its tag is chosen so that it does not occur in the text). After a few executions PostgreSQL keeps a generic
 * plan, so a statement is no longer planned on every call; for the chat's batch statements (several CTEs and lateral
 * lookups) planning was a fixed cost of every batch, and on PGlite (PostgreSQL in wasm) a large one.
 *
 * Only for PGlite: it is one session for the life of the process, so a statement prepared once stays prepared. A pool of
 * PostgreSQL connections would need it prepared on each connection (not done here). A statement whose parameters are not
 * exactly one string is run as it is.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';

export type Execute = (q: SQL) => Promise<unknown>;

const dialect = new PgDialect();

/** Runs statements as they are. */
export function direct(db: Database): Execute {
  return (q) => db.execute(q);
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

/** `value` as a dollar-quoted literal: the first occurrence of its tag after the opening one is the closing one. */
export function dollarQuoted(value: string): string {
  let tag = '$v$';
  for (let i = 0; `${value}${tag}`.indexOf(tag) !== value.length; i++) tag = `$v${i.toString(36)}$`;
  return `${tag}${value}${tag}`;
}

/**
 * Which events of a workspace a deletion takes: by id, or by dataset (app), model and time range. Every criterion given
 * must match (AND); at least one is required, so "delete everything" is never an empty filter by accident (that is
 * deleteWorkspace). Validated here once for every store.
 */
import { NetraError } from '../errors.js';

export interface EventFilter {
  /** event ids (at most MAX_DELETE_IDS) */
  ids?: readonly string[];
  app?: string;
  model?: string;
  /** inclusive, epoch ms */
  from?: number;
  /** exclusive, epoch ms */
  to?: number;
}

export const MAX_DELETE_IDS = 10_000;

/** The filter, checked: strings non-empty and bounded, ids a bounded list, from < to, at least one criterion. */
export function checkEventFilter(f: EventFilter | undefined | null): EventFilter {
  if (f === null || typeof f !== 'object')
    throw new NetraError('VALIDATION', 'a filter is required (ids, app, model, from, to)', { field: 'filter' });
  const out: EventFilter = {};
  if (f.ids !== undefined) {
    if (!Array.isArray(f.ids) || f.ids.length === 0 || f.ids.length > MAX_DELETE_IDS) {
      throw new NetraError('VALIDATION', `ids must be a list of 1-${MAX_DELETE_IDS} event ids`, { field: 'ids' });
    }
    for (const id of f.ids)
      if (typeof id !== 'string' || id === '' || id.length > 256)
        throw new NetraError('VALIDATION', 'every id must be a string of 1-256 characters', { field: 'ids' });
    out.ids = [...new Set(f.ids)];
  }
  for (const k of ['app', 'model'] as const) {
    const v = f[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.length > 200)
      throw new NetraError('VALIDATION', `${k} must be a string of 1-200 characters`, { field: k });
    out[k] = v;
  }
  for (const k of ['from', 'to'] as const) {
    const v = f[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 8.64e15)
      throw new NetraError('VALIDATION', `${k} must be a time (ISO 8601 or epoch milliseconds)`, { field: k });
    out[k] = v;
  }
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to)
    throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
  if (Object.keys(out).length === 0)
    throw new NetraError('VALIDATION', 'give at least one of ids, app, model, from, to', { field: 'filter' });
  return out;
}

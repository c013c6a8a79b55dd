/**
 * Shared request parameters: workspace names and time ranges, validated with clear field names.
 */
import { z } from 'zod';
import { NetraError } from '../errors.js';

export const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function parseWorkspace(value: unknown, fallback: string): string {
  const ws = value === undefined || value === '' ? fallback : value;
  if (typeof ws !== 'string' || !WORKSPACE_NAME.test(ws)) {
    throw new NetraError(
      'VALIDATION',
      'workspace must be 1-63 characters: letters, digits, "_", "-", "." (starting with a letter or digit)',
      { field: 'workspace' },
    );
  }
  return ws;
}

const time = z.union([z.string(), z.number()]).optional();

/** Parses `from`/`to` (ISO 8601 or epoch ms) into epoch ms, checking from < to. */
export function parseRange(q: { from?: unknown; to?: unknown }): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  for (const key of ['from', 'to'] as const) {
    const v = time.safeParse(q[key]);
    if (!v.success) throw new NetraError('VALIDATION', `${key} must be an ISO 8601 time or epoch milliseconds`, { field: key });
    if (v.data === undefined || v.data === '') continue;
    const t = typeof v.data === 'number' || /^\d+$/.test(v.data) ? Number(v.data) : Date.parse(v.data);
    if (!Number.isFinite(t))
      throw new NetraError('VALIDATION', `${key} is not a valid time: ${String(v.data).slice(0, 40)}`, { field: key });
    out[key] = t;
  }
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to) {
    throw new NetraError('VALIDATION', `from (${new Date(out.from).toISOString()}) must be before to (${new Date(out.to).toISOString()})`, {
      field: 'from',
    });
  }
  return out;
}

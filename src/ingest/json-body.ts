/**
 * JSON request bodies: an array of events, or `{ "events": [...] }`. Pure: the body is already parsed.
 * Each element becomes an item with its 0-based `index`; validation of the elements is the pipeline's job.
 */
import { type BodyParseResult, type IngestItem, isPlainObject } from './types.js';

export const JSON_BODY_SHAPE_MESSAGE = 'body must be a JSON array of events or an object { "events": [...] }';

export function parseJsonBody(body: unknown): BodyParseResult {
  let events: unknown[];
  if (Array.isArray(body)) events = body;
  else if (isPlainObject(body) && Array.isArray(body.events)) events = body.events;
  else if (isPlainObject(body) && 'events' in body) {
    return { ok: false, message: `'events' must be an array; ${JSON_BODY_SHAPE_MESSAGE}` };
  } else return { ok: false, message: JSON_BODY_SHAPE_MESSAGE };

  const items: IngestItem[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) items[i] = { index: i, raw: events[i] };
  return { ok: true, items };
}

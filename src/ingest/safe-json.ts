/**
 * JSON text → value with prototype-poisoning keys removed, the same rule as the HTTP JSON body parser (Fastify with
 * onProtoPoisoning / onConstructorPoisoning 'remove'): a `__proto__` key, and a `constructor` key whose value holds a
 * `prototype`, are dropped wherever they occur; the rest of the row is kept. Text without those words (nearly all of
 * it) is parsed by plain JSON.parse: the reviver costs only when needed.
 */
export function parseJsonSafe(text: string): unknown {
  if (!text.includes('__proto__') && !text.includes('constructor')) return JSON.parse(text);
  return JSON.parse(text, function revive(this: unknown, key: string, value: unknown) {
    if (key === '__proto__') return undefined;
    if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) return undefined;
    return value;
  });
}

/**
 * Structured output: the instruction that asks a model for one JSON value (with the zod schema as JSON Schema), the
 * lenient extraction of that value from a reply (code fences, prose around it), zod validation, and the repair turn
 * that quotes the validation errors back to the model.
 */
import { z } from 'zod';
import type { ChatMessage } from './types.js';

export type Validation<T> = { ok: true; data: T } | { ok: false; errors: string[] };

export function jsonInstruction(schema: z.ZodType): string {
  let schemaText: string;
  try {
    schemaText = JSON.stringify(z.toJSONSchema(schema));
  } catch {
    schemaText = '(schema not expressible as JSON Schema; follow the field names in the request)';
  }
  return `Answer with exactly one JSON value that matches this JSON Schema, and nothing else (no prose, no code fences):\n${schemaText}`;
}

/** The JSON in a reply: the whole text, else the inside of a ``` fence, else the span from the first { or [ to the last } or ]. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates: string[] = [text.trim()];
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fence?.[1]) candidates.push(fence[1].trim());
  const start = text.search(/[{[]/);
  const end = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(text.slice(start, end + 1));
  let lastError = 'empty reply';
  for (const c of candidates) {
    if (c === '') continue;
    try {
      return { ok: true, value: JSON.parse(c) as unknown };
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  return { ok: false, error: `not valid JSON: ${lastError}` };
}

export function validateReply<T>(schema: z.ZodType<T>, text: string): Validation<T> {
  const parsed = extractJson(text);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const r = schema.safeParse(parsed.value);
  if (r.success) return { ok: true, data: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`) };
}

/** The conversation for the one repair request: the bad reply, then the errors and the instruction to answer again. */
export function repairMessages(messages: readonly ChatMessage[], badReply: string, errors: readonly string[]): ChatMessage[] {
  return [
    ...messages,
    { role: 'assistant', content: badReply },
    {
      role: 'user',
      content: `Your previous reply did not validate against the schema. Validation errors:\n${errors.map((e) => `- ${e}`).join('\n')}\nReply again with only the corrected JSON value.`,
    },
  ];
}

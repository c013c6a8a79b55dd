/**
 * Seeded generator of templated support-style questions, the kind a synthetic workload generator produces: paraphrase
 * pairs (same intent: question frame changed, synonym swaps, filler words, clause moved) and "same topic, different
 * question" pairs (same frame, one slot changed: other object, other action or other place). Pure and deterministic.
 * Used by bench/semantic-cache.ts and the tests to measure the detector on templated traffic.
 */
import { mulberry32, type ParaphrasePair } from './near-duplicate-calibration.js';

const ACTIONS: ReadonlyArray<readonly [string, string]> = [
  ['change', 'update'],
  ['delete', 'remove'],
  ['export', 'download'],
  ['reset', 'reset'],
  ['share', 'send'],
  ['find', 'locate'],
  ['rename', 'rename'],
  ['archive', 'archive'],
];
const OBJECTS = [
  'my password',
  'the billing email address',
  'my API key',
  'the last invoice',
  'the team workspace',
  'my profile photo',
  'the sales dashboard',
  'a saved report',
  'the webhook secret',
  'my notification settings',
  'the shared calendar',
  'the monthly usage export',
  'a project folder',
  'the default payment card',
];
const PLACES = ['in the mobile app', 'in the web dashboard', 'from the admin console', 'on the desktop client'];
const FRAMES: ReadonlyArray<(x: string) => string> = [
  (x) => `How do I ${x}?`,
  (x) => `How can I ${x}?`,
  (x) => `What is the way to ${x}?`,
  (x) => `Can you tell me how to ${x}?`,
  (x) => `Please explain how to ${x}.`,
  (x) => `What are the steps to ${x}?`,
];
const PREFIXES = ['', '', 'Hi, ', 'Quick question: ', 'Hello! ', 'Hey there, '];
const SUFFIXES = ['', '', ' Thanks!', ' Thank you in advance.', ' Please help.', ' Any tips?'];

export interface TemplatedSet {
  positives: ParaphrasePair[];
  negatives: ParaphrasePair[];
}

export function templatedParaphrases(count: number, seed = 7): TemplatedSet {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const positives: ParaphrasePair[] = [];
  const negatives: ParaphrasePair[] = [];
  for (let i = 0; i < count; i++) {
    const a = Math.floor(rnd() * ACTIONS.length);
    const o = Math.floor(rnd() * OBJECTS.length);
    const p = Math.floor(rnd() * PLACES.length);
    const [verb, synonym] = ACTIONS[a]!;
    const obj = OBJECTS[o]!;
    const place = PLACES[p]!;
    const f1 = Math.floor(rnd() * FRAMES.length);
    const f2 = (f1 + 1 + Math.floor(rnd() * (FRAMES.length - 1))) % FRAMES.length;
    const origin = FRAMES[f1]!(`${verb} ${obj} ${place}`);
    // paraphrase: other frame, maybe the verb's synonym, maybe the place clause moved to the front, filler words
    const v2 = rnd() < 0.5 ? synonym : verb;
    const moved = rnd() < 0.4;
    const core = FRAMES[f2]!(moved ? `${v2} ${obj}` : `${v2} ${obj} ${place}`);
    const front = moved ? `${place[0]!.toUpperCase()}${place.slice(1)}, ${core[0]!.toLowerCase()}${core.slice(1)}` : core;
    positives.push({ origin, similar: `${pick(PREFIXES)}${front}${pick(SUFFIXES)}` });
    // negative: same frame and filler, one slot changed
    const which = rnd();
    let other: string;
    if (which < 0.5) other = `${verb} ${OBJECTS[(o + 1 + Math.floor(rnd() * (OBJECTS.length - 1))) % OBJECTS.length]!} ${place}`;
    else if (which < 0.8) other = `${ACTIONS[(a + 1 + Math.floor(rnd() * (ACTIONS.length - 1))) % ACTIONS.length]![0]} ${obj} ${place}`;
    else other = `${verb} ${obj} ${PLACES[(p + 1 + Math.floor(rnd() * (PLACES.length - 1))) % PLACES.length]!}`;
    negatives.push({ origin, similar: `${pick(PREFIXES)}${FRAMES[f1]!(other)}${pick(SUFFIXES)}` });
  }
  return { positives, negatives };
}

/**
 * The one pino logger factory. Library code receives a logger (child loggers carry request/run/connection ids);
 * nothing else prints.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths masked in every log line, wherever they appear. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'databaseUrl',
  'redisUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, base: { service: 'netra' }, redact: { paths: REDACT_PATHS, censor: '****' } };
  return destination ? pino(opts, destination) : pino(opts);
}

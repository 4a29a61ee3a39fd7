import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stdout (pino). */
export function createLogger(level: string, name = 'skein'): Logger {
  return pino({ name, level });
}

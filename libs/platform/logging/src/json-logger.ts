import type { LoggerService, LogLevel } from '@nestjs/common';

import { redact, redactString } from './redact';

const LEVELS: Record<LogLevel, number> = { verbose: 10, debug: 20, log: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_NAMES: Record<LogLevel, string> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(`${line}\n`);

/**
 * Structured JSON lines for every Nest and Veil log call. Objects passed as the message are merged
 * into the line (`logger.log({ msg: 'batch done', topic, offset })`). Every field goes through
 * `redact` first: the logger, not the caller, is responsible for keeping PII out of logs.
 */
export class JsonLogger implements LoggerService {
  private minLevel: number;

  constructor(
    private readonly service: string,
    level: LogLevel = 'log',
    private readonly sink: LogSink = stdoutSink,
  ) {
    this.minLevel = LEVELS[level];
  }

  setLogLevels(levels: LogLevel[]): void {
    this.minLevel = Math.min(...levels.map((l) => LEVELS[l]));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    if (LEVELS[level] < this.minLevel) return;
    // Nest passes the context as the last string parameter, and for errors a stack before it.
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const line: Record<string, unknown> = {};
    if (message instanceof Error) {
      line.msg = redactString(message.message);
      line.err = redact(message);
    } else if (message !== null && typeof message === 'object') {
      Object.assign(line, redact(message));
    } else {
      line.msg = redactString(String(message));
    }
    for (const extra of rest) {
      if (typeof extra === 'string') line.stack = redactString(extra);
      else if (extra instanceof Error) line.err = redact(extra);
      else if (extra !== undefined) line.extra = redact(extra);
    }
    // The logger's own fields last: a caller's object cannot overwrite them. The context is a
    // caller-supplied string too (Nest treats a trailing string argument as the context).
    line.time = new Date().toISOString();
    line.level = LEVEL_NAMES[level];
    line.service = this.service;
    if (context) line.context = redactString(context);
    this.sink(JSON.stringify(line));
  }
}

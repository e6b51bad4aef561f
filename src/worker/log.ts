// How `run` and `serve` log: pino with ISO times. JSON lines where a program reads them (ECS, a pipe, a
// file); on a terminal a compact line per entry (LOG_FORMAT). CloudWatch EMF in the stats line only where
// CloudWatch reads it (METRICS). Node's process warnings — the AWS SDK's Node-version warning among
// them — through the same logger, once each, instead of Node's plain text on stderr.
import pino, { type DestinationStream, type Logger } from 'pino';

export interface LogSettings {
  LOG_LEVEL: string;
  LOG_FORMAT: 'auto' | 'json' | 'pretty';
  METRICS: 'auto' | 'emf' | 'none';
}

/** The compact form: LOG_FORMAT=pretty, or auto with stdout a terminal. */
export const isPretty = (format: LogSettings['LOG_FORMAT'], tty = process.stdout.isTTY === true): boolean => format === 'pretty' || (format === 'auto' && tty);

/** EMF in the stats line: METRICS=emf, or auto in ECS (ECS_CONTAINER_METADATA_URI_V4 is set there) with JSON logs: CloudWatch reads nothing else. */
export const emfWanted = (metrics: LogSettings['METRICS'], pretty: boolean, env: NodeJS.ProcessEnv = process.env): boolean =>
  metrics === 'emf' || (metrics === 'auto' && !pretty && Boolean(env.ECS_CONTAINER_METADATA_URI_V4));

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the line's head shows. */
const HEAD = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

const fieldText = (value: unknown): string => {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  // A serialised error (pino's err): its type and message, never its stack.
  if (value && typeof value === 'object' && 'message' in value && 'stack' in value) return JSON.stringify(`${String((value as { type?: unknown }).type ?? 'Error')}: ${String(value.message)}`);
  return JSON.stringify(value);
};

/** One JSON log line in the compact form: `HH:MM:SS.mmm LEVEL message  key=value …` (the time in UTC, as in the JSON). */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return `${time} ${level.padEnd(5)} ${String(entry.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination writing the compact form to `out`. */
export const prettyStream = (out: { write(text: string): unknown } = process.stdout): DestinationStream => ({ write: (line: string) => void out.write(prettyLine(line)) });

/**
 * The logger of `run` or `serve` (`service`): level, ISO times, and the form LOG_FORMAT asks for, to
 * `destination` (stdout by default; the embedded run's goes to stderr, stdout holding its summary).
 */
export function createLogger(settings: Pick<LogSettings, 'LOG_LEVEL' | 'LOG_FORMAT'>, service: string, destination?: DestinationStream): Logger {
  const options = { level: settings.LOG_LEVEL, base: { service }, timestamp: pino.stdTimeFunctions.isoTime };
  const pretty = destination ? settings.LOG_FORMAT === 'pretty' : isPretty(settings.LOG_FORMAT);
  if (pretty) return pino(options, prettyStream(destination ?? pino.destination({ dest: 1, sync: true })));
  // Synchronous writes to stdout: pino's default asynchronous destination flushes at exit in a loop that
  // never ends when stdout is a broken pipe (`serve | true`); a synchronous one meets EPIPE on the write
  // itself, where pino stops logging, and SIGTERM still stops the process.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** Distinct warnings at most: a bound, should a dependency warn with ever-new texts. */
const MAX_WARNINGS = 100;

/**
 * Node's process warnings (the AWS SDK's Node-version warning among them) taken from Node's own
 * handler, which prints two or more plain-text lines on stderr: held until `logTo` names the logger,
 * then one JSON line per distinct warning, its text on one line. `restore` gives them back to Node
 * (the held ones too), for a command that ends before it has a logger.
 */
export class ProcessWarnings {
  private readonly previous = process.listeners('warning');
  private readonly held: Error[] = [];
  private readonly seen = new Set<string>();
  private logger: Logger | undefined;

  private readonly onWarning = (warning: Error & { code?: string }): void => {
    if (!this.logger) return void this.held.push(warning);
    const text = `${warning.name}: ${warning.message}`.replace(/\s*\n\s*/g, ' ');
    if (this.seen.has(text) || this.seen.size >= MAX_WARNINGS) return;
    this.seen.add(text);
    this.logger.warn({ source: 'node', warning: warning.name, ...(warning.code ? { code: warning.code } : {}) }, text);
  };

  constructor() {
    process.removeAllListeners('warning');
    process.on('warning', this.onWarning);
  }

  logTo(logger: Logger): void {
    this.logger = logger;
    for (const warning of this.held.splice(0)) this.onWarning(warning);
  }

  restore(): void {
    process.off('warning', this.onWarning);
    for (const listener of this.previous) {
      process.on('warning', listener);
      for (const warning of this.held) listener(warning);
    }
    this.held.length = 0;
  }
}

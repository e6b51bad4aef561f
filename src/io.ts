// The command line's view of the process: where output goes and where input comes from. Commands
// take an Io so that tests run them in-process; the launcher (bin/) gives them the real streams.
import fs from 'node:fs';
import { once } from 'node:events';

/** Writes text; a returned promise resolves when the consumer can take more (back-pressure). */
export type Write = (text: string) => void | Promise<void>;

export interface Io {
  stdout: Write;
  stderr: Write;
  /** Standard input as a stream of chunks. */
  stdin: () => AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  env?: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (replay-dlq draws a progress bar there). */
  stderrIsTTY?: boolean;
}

/** The exit code when the output cannot be written (EX_IOERR of sysexits.h): what was written is incomplete. */
export const OUTPUT_FAILED = 74;

/** stdout or stderr could not be written: a closed pipe (EPIPE, e.g. `| head`), a full disk (`> /dev/full`), … */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code?: string;
  constructor(
    readonly stream: 'stdout' | 'stderr',
    cause: NodeJS.ErrnoException,
  ) {
    super(`cannot write to ${stream}: ${cause.code ?? cause.message}${cause.code === 'ENOSPC' ? ' (no space left on the device)' : ''}; the output is incomplete`);
    this.code = cause.code;
  }
}

/**
 * A write to a stream that waits for 'drain' when the stream's buffer is full, so memory stays flat for
 * any consumer speed. Every write made while the buffer is full shares one wait: a wait of its own per
 * write would add a 'drain' and an 'error' listener each (MaxListenersExceededWarning once a caller
 * writes faster than it awaits, e.g. into `| head -1`, which closes the pipe). A stream that already
 * failed (EPIPE, ENOSPC) never drains: the write rejects with its error instead of waiting forever.
 */
function writer(name: 'stdout' | 'stderr', stream: NodeJS.WritableStream & { errored?: Error | null }): Write {
  let draining: Promise<void> | undefined;
  const failed = (err: unknown) => Promise.reject(new OutputError(name, err as NodeJS.ErrnoException));
  return (text) => {
    if (stream.errored) return failed(stream.errored);
    if (stream.write(text)) return;
    return (draining ??= once(stream, 'drain').then(() => void (draining = undefined), failed));
  };
}

export const processIo = (): Io => ({
  stdout: writer('stdout', process.stdout),
  stderr: writer('stderr', process.stderr),
  stdin: () => process.stdin,
  env: process.env,
  stderrIsTTY: process.stderr.isTTY,
});

/** A file as a stream of chunks. */
export const readFile = (file: string): AsyncIterable<Uint8Array> => fs.createReadStream(file);

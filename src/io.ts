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

/** A write to a stream that waits for 'drain' when the stream's buffer is full, so memory stays flat for any consumer speed. */
function writer(stream: NodeJS.WriteStream): Write {
  return (text) => {
    if (stream.write(text)) return;
    return once(stream, 'drain').then(() => undefined);
  };
}

export const processIo = (): Io => ({
  stdout: writer(process.stdout),
  stderr: writer(process.stderr),
  stdin: () => process.stdin,
  env: process.env,
  stderrIsTTY: process.stderr.isTTY,
});

/** A file as a stream of chunks. */
export const readFile = (file: string): AsyncIterable<Uint8Array> => fs.createReadStream(file);

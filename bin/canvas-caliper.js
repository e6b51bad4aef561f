#!/usr/bin/env node
// Launcher: the TypeScript sources are compiled to dist/ by `npm run build` (run by `prepare` on `npm ci`).
import { main } from '../dist/src/cli.js';
import { OUTPUT_FAILED, OutputError } from '../dist/src/io.js';

// `canvas-caliper map ... | head` closes the pipe early: that is not an error, and nothing more can be
// written. Any other write error (a full disk, `> /dev/full`) ends the run with one line and exit 74.
let outputFailed = false;
function onOutputError(err) {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  if (!outputFailed && err.stream === 'stdout') process.stderr.write(`canvas-caliper: ${err.message}\n`);
  outputFailed = true;
  process.exit(OUTPUT_FAILED);
}
for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]]) stream.on('error', (err) => onOutputError(new OutputError(name, err)));

/** Resolves once everything written to the stream so far has been handed to the OS (pipes are asynchronous in Node). */
const flushed = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)));

main(process.argv.slice(2)).then(
  async (code) => {
    process.exitCode = code;
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    // Exit now: idle keep-alive sockets and the embedded services' timers must not hold the process.
    process.exit(code);
  },
  async (err) => {
    if (err instanceof OutputError) return onOutputError(err);
    process.stderr.write(`canvas-caliper: ${err instanceof Error ? err.stack : String(err)}\n`);
    await flushed(process.stderr);
    process.exit(2);
  },
);

#!/usr/bin/env node
// Launcher: the TypeScript sources are compiled to dist/ by `npm run build` (run by `prepare` on `npm ci`).
import { main } from '../dist/src/cli.js';

// `canvas-caliper map ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    // Exit now: idle keep-alive sockets and the embedded services' timers must not hold the process.
    // (stdout/stderr writes to files and pipes are synchronous on POSIX, so nothing is lost.)
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`canvas-caliper: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);

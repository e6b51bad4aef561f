// `canvas-caliper healthcheck`: the container health check. The image runs either the worker (`run`,
// /healthz on HEALTH_PORT) or the ingest (`serve`, /healthz on PORT) and has one HEALTHCHECK for both:
// with no argument it asks the worker's port first and, where nothing listens, serve's — in a container
// only the process it runs listens, so the one that answers is the one being checked.
import { parseOptions } from './args.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';
import { healthcheck } from './worker/observe.js';

export const HEALTHCHECK_HELP = `Usage: canvas-caliper healthcheck [run|serve]

Exits 0 if the canvas-caliper process on this host answers 200 on its /healthz: the worker ('run') on
http://127.0.0.1:$HEALTH_PORT, 'serve' on http://127.0.0.1:$PORT (both default 8080). With no argument
(the image's HEALTHCHECK, for a container running either) it asks HEALTH_PORT and, if nothing listens
there, PORT: the process that answers decides. Otherwise it says why on stderr (connection refused,
the process's unhealthy reason, or no answer within 3 s) and exits 1. For the container health check.

Exit codes: 0 healthy, 1 not healthy (or not running), 2 usage error.
`;

/** Where each command serves /healthz, in the order they are asked. */
const TARGETS = [
  { command: 'run', variable: 'HEALTH_PORT', who: 'the worker' },
  { command: 'serve', variable: 'PORT', who: 'serve' },
] as const;

type Target = (typeof TARGETS)[number];

export async function healthcheckCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    await io.stdout(HEALTHCHECK_HELP);
    return 0;
  }
  const [only, ...extra] = positionals;
  if (extra.length || (only !== undefined && !TARGETS.some((t) => t.command === only))) throw new UsageError(`healthcheck takes run, serve or nothing, not '${positionals.join(' ')}'`);
  const env = io.env ?? process.env;
  const fail = async (problem: string) => {
    await io.stderr(`canvas-caliper healthcheck: ${problem}\n`);
    return 1;
  };
  // The ports to ask, each with the processes that would listen there (both default to 8080).
  const ports = new Map<number, Target[]>();
  for (const target of TARGETS.filter((t) => only === undefined || t.command === only)) {
    const setting = env[target.variable] || '8080';
    const port = Number(setting);
    // Asked for neither in particular: a port of 0 (no health server, or a free port) leaves it to the other.
    if (setting === '0' && only === undefined) continue;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return fail(`${target.variable} is '${setting}': ${target.who} serves /healthz only on a port from 1 to 65535`);
    ports.set(port, [...(ports.get(port) ?? []), target]);
  }
  if (!ports.size) return fail(`HEALTH_PORT and PORT are both 0: there is no /healthz port to ask (say which with 'healthcheck run' or 'healthcheck serve')`);
  for (const port of ports.keys()) {
    const { ok, problem, refused } = await healthcheck(port);
    if (ok) return 0;
    if (!refused) return fail(problem!);
  }
  return fail(nobodyListening([...ports]));
}

/** Why every port refused the connection, naming the processes and variables expected there. */
function nobodyListening(ports: [number, Target[]][]): string {
  const expected = ports.flatMap(([port, targets]) => targets.map((t) => ({ port, ...t })));
  const where = `port${ports.length > 1 ? 's' : ''} ${ports.map(([port]) => port).join(' and ')}`;
  const settings = expected.map((t) => `${t.variable}=${t.port}`).join(' or ');
  if (expected.length === 1) {
    const [t] = expected;
    return `connection refused on ${where}: ${t!.command === 'run' ? 'no worker is' : 'serve is not'} listening there (is it running, with ${settings}?)`;
  }
  return `connection refused on ${where}: neither the worker nor serve is listening (is one running, with ${settings}?)`;
}

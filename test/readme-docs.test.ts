// The README is the front door and docs/ the reference (issue 26, item 18); this keeps them true:
// every variable of the configuration schemas is documented in docs/configuration.md, under its area,
// and nothing documented there is missing from a schema (or from the short list of variables read
// elsewhere); the README stays under 250 lines; every relative link and #anchor of README.md and
// docs/*.md resolves, by GitHub's heading slugs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config.js';
import { ServeConfigSchema } from '../src/ingest/config.js';

const root = path.join(import.meta.dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Fenced code blocks out: a `#` or `](` inside one is no heading and no link. */
const prose = (text: string) => text.replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, '');

/** GitHub's heading anchor: lower case, punctuation but - and _ dropped (markdown's backticks too), each space a -. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a page: its headings' slugs, a repeated one suffixed -1, -2, … as GitHub does. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const base = slug(heading!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every relative link of a page that does not resolve: a missing file, or an #anchor no heading of its file has. */
function brokenLinks(file: string, text: string, readFile: (file: string) => string | undefined): string[] {
  const broken: string[] = [];
  // Code spans out too (a `[x](y)` shown as code is no link); link text keeps its brackets.
  const body = prose(text).replace(/`[^`\n]*`/g, '``');
  for (const [, target] of body.matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:: not ours to check
    const [ref, anchor] = target!.split('#', 2) as [string, string | undefined];
    const linked = ref ? path.posix.normalize(path.posix.join(path.posix.dirname(file), ref)) : file;
    const content = readFile(linked);
    if (content === undefined) broken.push(`${file}: ${target} (no file ${linked})`);
    else if (anchor !== undefined && !(linked.endsWith('.md') && anchors(content).has(anchor))) broken.push(`${file}: ${target} (no heading #${anchor} in ${linked})`);
  }
  return broken;
}

const readRepo = (file: string): string | undefined => {
  const full = path.join(root, file);
  if (!full.startsWith(root) || !fs.existsSync(full)) return undefined;
  return fs.statSync(full).isDirectory() ? '' : fs.readFileSync(full, 'utf8');
};

/** docs/configuration.md's sections: each `## ` heading's slug → the variables its table rows document (`| \`NAME\` |`, `| \`A\` or \`B\` |`). */
function documented(text: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current = new Set<string>();
  sections.set('', current);
  for (const line of text.split('\n')) {
    const heading = /^## +(.+)$/.exec(line);
    if (heading) sections.set(slug(heading[1]!), (current = new Set()));
    const cell = /^\| *(`[^|]*?) *\|/.exec(line)?.[1];
    for (const [, name] of cell?.matchAll(/`([A-Z][A-Z0-9_]*)`/g) ?? []) current.add(name!);
  }
  return sections;
}

// Variables the commands read that are no zod schema's: the embedded run's and the AWS SDK's
// (NODE_TLS_REJECT_UNAUTHORIZED is documented as having no effect). bench's are in docs/development.md.
const EMBEDDED = ['NODE_ENV', 'LOCAL_ENDPOINT_AUTH'];
const AWS_SDK = ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_KINESIS', 'NODE_TLS_REJECT_UNAUTHORIZED'];

const WORKER_SECTIONS = ['the-worker-canvas-caliper-run', 'output-format', 'identities-iris-and-the-caliper-type-filter', 'privacy', 'the-caliper-endpoint-sink-sinkcaliper-http'];

describe('docs/configuration.md documents the configuration schemas', () => {
  const sections = documented(read('docs/configuration.md'));
  const all = new Set([...sections.values()].flatMap((names) => [...names]));
  const worker = Object.keys(ConfigSchema.shape);
  const serve = Object.keys(ServeConfigSchema.shape);

  it('reads the tables it checks (a layout it cannot read would pass vacuously)', () => {
    expect(worker.length).toBeGreaterThan(50);
    expect(serve.length).toBeGreaterThan(15);
    for (const section of [...WORKER_SECTIONS, 'canvas-caliper-serve', 'the-embedded-run-npm-start', 'the-aws-sdks-variables']) {
      expect(sections.get(section)?.size, `a section #${section} with a table of variables`).toBeGreaterThan(0);
    }
    // A row naming two variables documents both.
    expect(sections.get('the-worker-canvas-caliper-run')).toContain('KINESIS_STREAM_ARN');
  });

  it("every variable of the worker's schema (ConfigSchema, its privacy and identity variables included) is in a table of the worker's areas", () => {
    const inWorkerAreas = new Set(WORKER_SECTIONS.flatMap((s) => [...(sections.get(s) ?? [])]));
    expect(worker.filter((name) => !inWorkerAreas.has(name))).toEqual([]);
  });

  it("every variable of serve's schema (ServeConfigSchema) is in serve's table", () => {
    const inServe = sections.get('canvas-caliper-serve')!;
    expect(serve.filter((name) => !inServe.has(name))).toEqual([]);
  });

  it('every variable documented is in a schema or in the short list of variables read elsewhere', () => {
    const known = new Set([...worker, ...serve, ...EMBEDDED, ...AWS_SDK]);
    expect([...all].filter((name) => !known.has(name))).toEqual([]);
    expect([...all].filter((name) => name.startsWith('BENCH_'))).toEqual([]);
  });

  it('the variables read elsewhere are documented, and the embedded run still reads its own', () => {
    expect([...EMBEDDED, ...AWS_SDK].filter((name) => !all.has(name))).toEqual([]);
    const run = read('src/worker/run.ts');
    for (const name of EMBEDDED) expect(run, `src/worker/run.ts reads ${name}`).toContain(`env.${name}`);
  });

  it('loadEnv reads no schema but these (a new one must be documented and added here)', () => {
    const sources = ['src/config.ts', 'src/ingest/config.ts', ...fs.readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => `src/${f}`)];
    const schemas = new Set(
      [...new Set(sources)].filter((f) => f.endsWith('.ts')).flatMap((f) => [...read(f).matchAll(/\bloadEnv\((\w+)/g)].map((m) => m[1]!)),
    );
    // PrivacySchema and IdentitySchema are made of ConfigSchema's own shapes (PRIVACY_SHAPE, IDENTITY_SHAPE).
    expect([...schemas].sort()).toEqual(['ConfigSchema', 'IdentitySchema', 'PrivacySchema', 'ServeConfigSchema']);
    const config = read('src/config.ts');
    expect(config).toMatch(/const IdentitySchema = z\s*\.object\(\{ \.\.\.IDENTITY_SHAPE, CALIPER_FORMAT: [^,]+, PRIVACY: [^,]+, CALIPER_EDAPP_ID: [^}]+\}\)/);
    expect(config).toMatch(/const PrivacySchema = z\.object\(PRIVACY_SHAPE\)/);
    expect(config).toMatch(/\.\.\.PRIVACY_SHAPE,\s*\.\.\.IDENTITY_SHAPE,/);
  });

  it("every BENCH_ variable bench/ reads is in docs/development.md", () => {
    const bench = fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.ts'));
    const names = new Set(bench.flatMap((f) => [...read(`bench/${f}`).matchAll(/env\.(BENCH_[A-Z0-9_]+)/g)].map((m) => m[1]!)));
    expect(names.size).toBeGreaterThan(5);
    const dev = read('docs/development.md');
    expect([...names].filter((name) => !dev.includes(`\`${name}`))).toEqual([]);
  });
});

describe('the README is the front door', () => {
  it('is under 250 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(250);
  });

  it('keeps the two commands', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test +# /m);
  });
});

describe('links', () => {
  it.each(pages)('%s: every relative link and #anchor resolves', (page) => {
    expect(brokenLinks(page, read(page), readRepo)).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    expect(slug('`canvas-caliper healthcheck [run|serve]`')).toBe('canvas-caliper-healthcheck-runserve');
    expect(slug('Trying it locally (`replay-dlq --local`)')).toBe('trying-it-locally-replay-dlq---local');
    expect(slug('Sending to a Caliper endpoint (`SINK=caliper-http`)')).toBe('sending-to-a-caliper-endpoint-sinkcaliper-http');
    expect(slug("The AWS SDK's variables")).toBe('the-aws-sdks-variables');
    expect(slug('2. The identity_map')).toBe('2-the-identity_map');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n### A\n')]).toEqual(['a', 'a-1', 'a-2']);
  });

  it('finds what is broken: a missing file, a missing anchor, an anchor in the same page', () => {
    const files: Record<string, string> = { 'docs/a.md': '# Title\n## Some part\n', 'README.md': '' };
    const text = [
      '[ok](a.md) [ok](a.md#some-part) [ok](#title) [ok](https://example.com/x#y) [ok](../README.md)',
      '[missing file](b.md) [missing anchor](a.md#other) [self](#nope) [code is no link: `[x](c.md)`]',
      '```\n[in a fence](d.md)\n```',
    ].join('\n');
    const page = `# Title\n## Some part\n${text}`;
    expect(brokenLinks('docs/a.md', page, (f) => (f === 'docs/a.md' ? page : files[f]))).toEqual([
      'docs/a.md: b.md (no file docs/b.md)',
      'docs/a.md: a.md#other (no heading #other in docs/a.md)',
      'docs/a.md: #nope (no heading #nope in docs/a.md)',
    ]);
  });
});

// docs/privacy.md stays true: its table of fields is the table in src/privacy/fields.ts, printed, and
// each example's `map` command, run here through the CLI (with DOCS_KEY for the page's
// `$(openssl rand -base64 32)`), prints exactly the envelope the page shows. `UPDATE_PRIVACY_DOC=1 npx vitest run test/privacy-docs.test.ts` rewrites
// both from the code (then read the diff before committing it).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli.js';
import { ASSET_NAME, BODY, BODY_BY_TYPE, KINDS, METADATA, NOT_PERSONAL, type Field } from '../src/privacy/fields.js';

/** The key the page's examples were made with, in place of the reader's own random one. */
const DOCS_KEY = 'base64:ZG9jcy9wcml2YWN5Lm1kIGV4YW1wbGVzLCBub3QgYSBrZXkh';

const root = path.join(import.meta.dirname, '..');
const page = path.join(root, 'docs', 'privacy.md');
const update = process.env.UPDATE_PRIVACY_DOC === '1';

/** The page's tables, from the code. */
function tables(): string {
  const row = (name: string, f: Field) => `| \`${name}\` | ${f.kind}${f.domain ? ` (${f.domain})` : ''} | ${f.note} |`;
  return [
    '| kind | what it is | pseudonymise | drop |',
    '|---|---|---|---|',
    ...Object.entries(KINDS).map(([kind, k]) => `| ${kind} | ${k.what} | ${k.pseudonymise} | ${k.drop} |`),
    '',
    'Metadata fields:',
    '',
    '| field | kind (domain) | what |',
    '|---|---|---|',
    ...Object.entries(METADATA).map(([name, f]) => row(name, f)),
    '',
    'Body fields (a nested field dotted) that are personal, or that the table names for a reason:',
    '',
    '| field | kind (domain) | what |',
    '|---|---|---|',
    ...Object.entries(BODY).map(([name, f]) => row(name, f)),
    ...Object.entries(BODY_BY_TYPE).flatMap(([type, fields]) => Object.entries(fields).map(([name, f]) => row(`${type}: ${name}`, f))),
    ...Object.entries(ASSET_NAME).map(([type, f]) => row(`asset_accessed: asset_name of asset_type ${type}`, f)),
    '',
    `Every other body field, not personal (kept): ${[...NOT_PERSONAL].sort().map((n) => `\`${n}\``).join(', ')}.`,
  ].join('\n');
}

const between = (text: string, marker: string) => {
  const start = text.indexOf(`<!-- ${marker}:start -->\n`);
  const end = text.indexOf(`\n<!-- ${marker}:end -->`);
  expect(start, `docs/privacy.md has no ${marker} markers`).toBeGreaterThanOrEqual(0);
  return { start: start + `<!-- ${marker}:start -->\n`.length, end };
};

async function run(command: string): Promise<string> {
  const m = /^(PRIVACY_KEY=base64:\$\(openssl rand -base64 32\) )?node bin\/canvas-caliper\.js (map .+)$/.exec(command);
  const [, key, args] = m!;
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [], env: key ? { PRIVACY_KEY: DOCS_KEY } : {} };
  const argv = args!.split(' ').map((a) => (a.startsWith('samples/') ? path.join(root, a) : a));
  expect(await main(argv, io), stderr).toBe(0);
  // Nothing on stderr but map's tally: the one event mapped.
  expect(stderr).toBe('mapped 1 · refused 0 · skipped 0\n');
  return stdout.trimEnd();
}

describe('docs/privacy.md', () => {
  it('its tables are the code’s (src/privacy/fields.ts)', () => {
    let text = fs.readFileSync(page, 'utf8');
    const { start, end } = between(text, 'table');
    if (update) fs.writeFileSync(page, (text = text.slice(0, start) + tables() + text.slice(end)));
    expect(text.slice(start, end)).toBe(tables());
  });

  it('each example’s map command prints the envelope it shows (keep, pseudonymise, drop)', async () => {
    let text = fs.readFileSync(page, 'utf8');
    const examples = [...text.matchAll(/```sh\n((?:PRIVACY_KEY=base64:\$\(openssl rand -base64 32\) )?node bin\/canvas-caliper\.js map [^\n]+)\n```\n\n```json\n([\s\S]*?)\n```/g)];
    expect(examples.map((m) => /--privacy (\w+)/.exec(m[1]!)?.[1] ?? 'keep')).toEqual(['keep', 'pseudonymise', 'drop']);
    for (const m of examples.reverse()) {
      const shown = await run(m[1]!);
      if (update) {
        const at = m.index! + m[0].indexOf('```json\n') + '```json\n'.length;
        text = text.slice(0, at) + shown + text.slice(at + m[2]!.length);
      } else expect(shown).toBe(m[2]);
    }
    if (update) fs.writeFileSync(page, text);
  });
});

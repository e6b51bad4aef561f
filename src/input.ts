// Reading raw events from a file or stdin, as a stream: NDJSON is read line by line (memory stays
// flat whatever the size, output starts before input ends, each line stands alone); a JSON document
// — an object, an array, or objects one after another (`cat a.json b.json`) — is read whole.
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MappingError } from './errors.js';
import { parseJson } from './json.js';

type Chunks = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/**
 * Compressed inputs, by their first bytes. gzip is read as if decompressed (Canvas exports and log
 * archives often are, and node:zlib reads it as a stream at no cost to other inputs); the others are one
 * error for the whole input, saying how to decompress it, rather than an error per line of binary.
 */
const COMPRESSED: { magic: number[]; format: string; decompress?: string }[] = [
  { magic: [0x1f, 0x8b], format: 'gzip' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], format: 'zstd', decompress: 'zstd -dc' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], format: 'xz', decompress: 'xz -dc' },
  { magic: [0x42, 0x5a, 0x68], format: 'bzip2', decompress: 'bzip2 -dc' },
  { magic: [0x50, 0x4b, 0x03, 0x04], format: 'zip', decompress: 'unzip -p' },
];
const SNIFF_BYTES = Math.max(...COMPRESSED.map((c) => c.magic.length));

/**
 * The text of an input: gzip decompressed; another compression or binary data (a NUL byte in what
 * arrived first, which JSON text never holds) refused as a whole, with one error. Output starts as
 * soon as the first bytes are in: only the few bytes of a magic number are waited for.
 */
export async function* textOf(chunks: Chunks): AsyncGenerator<Uint8Array | string> {
  const source = (async function* () {
    yield* chunks;
  })();
  const head: Buffer[] = [];
  let length = 0;
  while (length < SNIFF_BYTES) {
    const next = await source.next();
    if (next.done) break;
    const bytes = Buffer.from(next.value);
    head.push(bytes);
    length += bytes.length;
  }
  const first = Buffer.concat(head);
  const whole = (async function* () {
    if (first.length) yield first;
    yield* { [Symbol.asyncIterator]: () => source };
  })();
  const compressed = COMPRESSED.find((c) => c.magic.every((b, i) => first[i] === b));
  if (compressed?.format === 'gzip') return yield* textOf(gunzip(whole));
  if (compressed) throw new Error(`the input is ${compressed.format}-compressed: decompress it first (${compressed.decompress} FILE | canvas-caliper map)`);
  const nul = first.indexOf(0);
  if (nul !== -1) throw new Error(`the input is not text (a NUL byte at byte ${nul + 1}): map reads NDJSON or JSON in UTF-8, or gzip of them`);
  yield* whole;
}

async function* gunzip(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  const unzipped = createGunzip();
  pipeline(Readable.from(chunks), unzipped, () => {});
  try {
    for await (const chunk of unzipped) yield chunk as Buffer;
  } catch (err) {
    throw new Error(`the input is gzip, but its data is invalid: ${(err as Error).message} (a file cut short?)`);
  }
}

/** One input item: the parsed value, or why it could not be read, with where it came from. */
export interface Item {
  /** 1-based ordinal of the item in its input. */
  position: number;
  /** 1-based line where the item starts. */
  line?: number;
  value?: unknown;
  error?: MappingError;
}

const BOM = 0xfeff;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid bytes are an error, never a silent U+FFFD. */
function decode(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MappingError('INVALID_JSON', `invalid UTF-8 ${where}`);
  }
}

const stripBom = (text: string) => (text.charCodeAt(0) === BOM ? text.slice(1) : text);

/**
 * The items of one input, in order. The first non-empty line decides the form: a line that is a
 * JSON value other than an array starts NDJSON (as does a line that is not JSON at all: it is that
 * line's error); a line that opens a JSON text it does not close, or an array, starts a document.
 */
export async function* readItems(chunks: Chunks): AsyncGenerator<Item> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let position = 0;
  let mode: 'ndjson' | 'document' | undefined;
  const document: Buffer[] = [];
  let documentLine = 0;

  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (mode === 'document') {
      document.push(bytes);
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, bytes]) : bytes;
    let start = 0;
    for (let nl = pending.indexOf(10, start); nl !== -1; nl = pending.indexOf(10, start)) {
      const line = pending.subarray(start, nl);
      start = nl + 1;
      lineNo++;
      if (mode === 'document') {
        document.push(Buffer.from(line), Buffer.from('\n'));
        continue;
      }
      const item = lineItem(line, lineNo, position + 1, mode === undefined);
      if (item === 'blank') continue;
      if (item === 'document') {
        mode = 'document';
        documentLine = lineNo;
        document.push(Buffer.from(line), Buffer.from('\n'));
        continue;
      }
      mode = 'ndjson';
      position++;
      yield item;
    }
    pending = Buffer.from(pending.subarray(start));
  }
  if (mode === 'document') {
    document.push(pending);
    yield* documentItems(Buffer.concat(document), documentLine);
    return;
  }
  if (pending.length) {
    lineNo++;
    const item = lineItem(pending, lineNo, position + 1, mode === undefined);
    if (item === 'document') yield* documentItems(pending, lineNo);
    else if (item !== 'blank') yield item;
  }
}

/** One NDJSON line as an item; 'blank' for an empty line; 'document' when the first line starts a JSON document instead. */
function lineItem(bytes: Uint8Array, line: number, position: number, first: boolean): Item | 'blank' | 'document' {
  let text: string;
  try {
    text = decode(bytes, `on line ${line}`);
  } catch (err) {
    return { position, line, error: err as MappingError };
  }
  if (first) text = stripBom(text);
  const trimmed = text.trim();
  if (!trimmed) return 'blank';
  try {
    const value = parseJson(trimmed);
    if (first && Array.isArray(value)) return 'document';
    if (Array.isArray(value)) {
      return { position, line, error: new MappingError('NOT_AN_OBJECT', 'an NDJSON line must hold one event object, not an array') };
    }
    return { position, line, value };
  } catch (err) {
    const e = err as MappingError;
    // A first line that opens an object or array it does not close: a pretty-printed document.
    if (first && e.code === 'INVALID_JSON' && (trimmed.startsWith('{') || trimmed.startsWith('['))) return 'document';
    return { position, line, error: e };
  }
}

/**
 * The items of a JSON document: one object, an array of objects, or several such values one after
 * another. Reading stops at the first value that is not valid JSON (its start line is named), since
 * where the next value starts is then unknown.
 */
export function* documentItems(bytes: Uint8Array, firstLine = 1): Generator<Item> {
  let text: string;
  try {
    text = stripBom(decode(bytes, `in the JSON document starting on line ${firstLine}`));
  } catch (err) {
    yield { position: 1, line: firstLine, error: err as MappingError };
    return;
  }
  let position = 0;
  let line = firstLine;
  let i = 0;
  const values = splitValues(text);
  for (const { start, end } of values) {
    line += countLines(text, i, start);
    i = start;
    const slice = text.slice(start, end);
    let value: unknown;
    try {
      value = parseJson(slice);
    } catch (err) {
      const e = err as MappingError;
      const hint = e.code === 'INVALID_JSON' ? ' (input must be NDJSON — one event per line —, a JSON object, a JSON array, or JSON objects one after another)' : '';
      yield { position: position + 1, line, error: new MappingError(e.code, `${e.message}${hint}`, e.eventName) };
      return;
    }
    if (Array.isArray(value)) {
      for (const element of value) yield { position: ++position, line, value: element };
    } else yield { position: ++position, line, value };
  }
}

/** The start/end of each top-level JSON value in a text (by brackets and strings; the values themselves are parsed later). */
function* splitValues(text: string): Generator<{ start: number; end: number }> {
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) return;
    const start = i;
    let depth = 0;
    do {
      const c = text.charCodeAt(i);
      if (c === 0x22) i = stringEnd(text, i);
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) depth--;
      else if (depth === 0) {
        // a scalar or garbage at the top level: up to the next space or bracket
        while (i + 1 < n && !isSpace(text.charCodeAt(i + 1)) && !'{["'.includes(text[i + 1]!)) i++;
      }
      i++;
    } while (i < n && depth > 0);
    yield { start, end: depth > 0 ? n : i };
  }
}

function stringEnd(text: string, open: number): number {
  let j = open + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j === -1) return text.length - 1;
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function countLines(text: string, from: number, to: number): number {
  let count = 0;
  for (let k = text.indexOf('\n', from); k !== -1 && k < to; k = text.indexOf('\n', k + 1)) count++;
  return count;
}

/** The items of a whole text (samples, tests): the same rules as `readItems`. */
export function splitInput(text: string): Item[] {
  const lines = text.split('\n');
  const items: Item[] = [];
  let position = 0;
  for (let i = 0; i < lines.length; i++) {
    const item = lineItem(Buffer.from(lines[i]!), i + 1, position + 1, position === 0);
    if (item === 'blank') continue;
    if (item === 'document') return [...documentItems(Buffer.from(lines.slice(i).join('\n')), i + 1)];
    position++;
    items.push(item);
  }
  return items;
}

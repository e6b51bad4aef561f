// PERSON_ID_MAP: which platform person each Canvas user is. A platform such as TimeBack knows a
// student by its own id (`urn:uuid:<platform id>`), which no Canvas live event carries; a school gets
// the pairs from a roster join and gives them to us as a CSV (header `canvas_user_id,person_id`, more
// columns ignored), in a file or an S3 object, re-read every PERSON_ID_MAP_REFRESH_S without a restart.
//
// The reader is our own, strict and small rather than a general CSV library (csv-parse): the file is
// two known columns of ids (no quoted commas or line breaks in an id), every row is checked as an id
// pair anyway, and a value it refuses names its line (never the value). The pairs are held compactly
// (the platform ids as 16 bytes each in one buffer): a million rows hold about 82 MB
// (bench/person-map.ts).
import fs from 'node:fs/promises';
import { globalId, shardOf } from '../mappers/ids.js';

export const UNMAPPED_POLICIES = ['keep', 'skip', 'dlq'] as const;
export type UnmappedPolicy = (typeof UNMAPPED_POLICIES)[number];

/** A map that cannot be read or is malformed: the message names the source and, for a bad row, its line (never a value). */
export class PersonMapError extends Error {
  override readonly name = 'PersonMapError';
}

const UUID = /^(?:urn:uuid:)?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;
/** A Canvas user id as a roster export writes it: global or local digits, or `shard~local`. */
const CANVAS_USER_ID = /^(?:\d{1,30}|\d{1,17}~\d{1,13})$/;
const LOCAL_LIMIT = 10_000_000_000_000n;

/** The pairs of one version of the map: Canvas user id (global, or local as written) → index of its platform id. */
export class PersonIds {
  constructor(
    private readonly index: Map<string, number>,
    /** The platform ids, 16 bytes each, in the order of `index`'s values. */
    private readonly uuids: Buffer,
  ) {}

  get size(): number {
    return this.index.size;
  }

  /**
   * The platform id (`urn:uuid:…`, lower case) of a Canvas user id in any form, or undefined. `rootShard`
   * is the shard of the event's root account: a local id in the event is on it, and a local id in the
   * map matches a global id on it.
   */
  lookup(userId: string, rootShard?: bigint): string | undefined {
    // The id as the event wrote it first: Canvas writes global ids, the map's own form.
    let at = this.index.get(userId);
    if (at !== undefined) return uuidAt(this.uuids, at);
    const global = globalId(userId, rootShard);
    at = this.index.get(global);
    if (at === undefined && rootShard !== undefined && /^\d+$/.test(global) && shardOf(global) === rootShard) {
      at = this.index.get(String(BigInt(global) % LOCAL_LIMIT));
    }
    return at === undefined ? undefined : uuidAt(this.uuids, at);
  }
}

function uuidAt(buffer: Buffer, at: number): string {
  const hex = buffer.toString('hex', at * 16, at * 16 + 16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One CSV line's fields: split on commas; a field may be quoted ("…", "" for a quote) but holds no line break. */
function fields(line: string, lineNo: number, source: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) throw new PersonMapError(`${source}, line ${lineNo}: a quoted field is not closed on its line`);
        value += line.slice(i, close);
        if (line[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      out.push(value);
      if (i < line.length && line[i] !== ',') throw new PersonMapError(`${source}, line ${lineNo}: text after a quoted field`);
    } else {
      const comma = line.indexOf(',', i);
      out.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/**
 * Reads a map from CSV bytes (UTF-8, optional BOM, LF or CRLF line ends). The header names the columns
 * canvas_user_id and person_id (any order, other columns ignored); each row pairs a Canvas user id
 * with the platform's id (a UUID, with or without `urn:uuid:`, any case). Blank lines are ignored.
 * Throws a PersonMapError naming the first bad line: a missing column, a value that is not an id, a
 * Canvas user id given two different platform ids, no rows.
 */
export function parsePersonMap(bytes: Buffer, source: string): PersonIds {
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const index = new Map<string, number>();
  const lines: number[] = []; // the line each pair came from, for the duplicate error
  let uuids = Buffer.alloc(16 * 1024);
  let userCol = -1;
  let personCol = -1;
  let width = 0;
  for (let lineNo = 1; start < bytes.length; lineNo++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const stop = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
    // Each line decoded on its own: no string (nor RegExp's last match) holds the whole text alive.
    const line = bytes.toString('utf8', start, stop);
    start = end + 1;
    if (!line.trim()) continue;
    const row = fields(line, lineNo, source);
    if (userCol < 0) {
      const names = row.map((name) => name.trim().toLowerCase());
      userCol = names.indexOf('canvas_user_id');
      personCol = names.indexOf('person_id');
      width = names.length;
      if (userCol < 0 || personCol < 0) throw new PersonMapError(`${source}, line ${lineNo}: the header must name the columns canvas_user_id and person_id`);
      continue;
    }
    if (row.length !== width) throw new PersonMapError(`${source}, line ${lineNo}: ${row.length} fields where the header has ${width}`);
    const user = row[userCol]!.trim();
    const person = UUID.exec(row[personCol]!.trim());
    if (!CANVAS_USER_ID.test(user)) throw new PersonMapError(`${source}, line ${lineNo}: canvas_user_id is not a Canvas user id (digits, or shard~id)`);
    if (!person) throw new PersonMapError(`${source}, line ${lineNo}: person_id is not a UUID (the platform's person id, e.g. 6f1c…-…; urn:uuid: optional)`);
    const key = globalId(user);
    const hex = person.slice(1).join('').toLowerCase();
    const seen = index.get(key);
    if (seen !== undefined) {
      if (uuids.toString('hex', seen * 16, seen * 16 + 16) === hex) continue;
      throw new PersonMapError(`${source}, line ${lineNo}: canvas_user_id has another person_id on line ${lines[seen]}`);
    }
    const at = index.size;
    if ((at + 1) * 16 > uuids.length) uuids = Buffer.concat([uuids, Buffer.alloc(uuids.length)]);
    uuids.write(hex, at * 16, 'hex');
    index.set(key, at);
    lines.push(lineNo);
  }
  if (userCol < 0) throw new PersonMapError(`${source}: empty (the header canvas_user_id,person_id and one row per person are expected)`);
  if (!index.size) throw new PersonMapError(`${source}: no rows after the header`);
  return new PersonIds(index, Buffer.from(uuids.subarray(0, index.size * 16)));
}

/** Where a map is read from: its bytes and a version (mtime and size, or ETag), or 'unchanged' since `version`. */
export interface MapSource {
  readonly name: string;
  read(version?: string): Promise<{ bytes: Buffer; version: string } | 'unchanged'>;
}

function fileSource(path: string): MapSource {
  return {
    name: path,
    async read(version) {
      const stat = await fs.stat(path);
      const now = `${stat.mtimeMs}:${stat.size}`;
      if (now === version) return 'unchanged';
      return { bytes: await fs.readFile(path), version: now };
    },
  };
}

/** `s3://bucket/key` → its bucket and key, or undefined. */
export function s3Location(text: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(text);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export interface S3Like {
  send(command: unknown): Promise<unknown>;
}

/**
 * An S3 object: GetObject with If-None-Match on the last ETag, so an unchanged map costs one small
 * request (S3 answers 304). `s3` is an S3Client (made lazily: the SDK is loaded only for s3:// maps).
 */
export function s3Source(location: string, region: string | undefined, s3?: S3Like): MapSource {
  const where = s3Location(location);
  if (!where) throw new PersonMapError(`PERSON_ID_MAP: '${location}' is not s3://bucket/key`);
  let client = s3;
  return {
    name: location,
    async read(version) {
      const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
      client ??= new S3Client({ region });
      try {
        const out = (await client.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key, IfNoneMatch: version }))) as {
          Body?: { transformToByteArray(): Promise<Uint8Array> };
          ETag?: string;
        };
        const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
        return { bytes, version: out.ETag ?? '' };
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304 || (err as Error).name === 'NotModified') return 'unchanged';
        throw err;
      }
    },
  };
}

export interface PersonMapStatus {
  rows: number;
  /** Re-reads that failed (the last good map kept). */
  refreshFailures: number;
  /** Re-reads that loaded a new version. */
  reloads: number;
}

/**
 * The person map in use: loaded once at start (a failure is the caller's config error), then re-read
 * every `refreshS` seconds. A re-read that fails keeps the last good map, logs one line (the source
 * and the reason, no value) and counts it.
 */
export class PersonMap {
  readonly status: PersonMapStatus = { rows: 0, refreshFailures: 0, reloads: 0 };
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly source: MapSource,
    private ids: PersonIds,
    private version: string,
  ) {
    this.status.rows = ids.size;
  }

  /** Reads the map for the first time; throws a PersonMapError when it cannot be read or is malformed. */
  static async open(source: MapSource): Promise<PersonMap> {
    let read;
    try {
      read = await source.read();
    } catch (err) {
      throw new PersonMapError(`PERSON_ID_MAP ${source.name} cannot be read: ${(err as Error).message}`);
    }
    if (read === 'unchanged') throw new PersonMapError(`PERSON_ID_MAP ${source.name} cannot be read`);
    return new PersonMap(source, parsePersonMap(read.bytes, `PERSON_ID_MAP ${source.name}`), read.version);
  }

  lookup(userId: string, rootShard?: bigint): string | undefined {
    return this.ids.lookup(userId, rootShard);
  }

  /** Reads the source again if it changed: 'loaded', 'unchanged', or throws (the current map stays). */
  async refresh(): Promise<'loaded' | 'unchanged'> {
    const read = await this.source.read(this.version);
    if (read === 'unchanged') return 'unchanged';
    this.ids = parsePersonMap(read.bytes, `PERSON_ID_MAP ${this.source.name}`);
    this.version = read.version;
    this.status.rows = this.ids.size;
    this.status.reloads++;
    return 'loaded';
  }

  /** Re-reads every `intervalS` seconds until `stop()`; `log` gets one line per reload and per failure. */
  start(intervalS: number, log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }): () => void {
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refresh()
        .then((outcome) => outcome === 'loaded' && log.info({ source: this.source.name, rows: this.ids.size }, 'PERSON_ID_MAP re-read'))
        .catch((err: Error) => {
          this.status.refreshFailures++;
          log.warn({ source: this.source.name, error: err.message, rows: this.ids.size }, 'PERSON_ID_MAP re-read failed; the last good map stays in use');
        })
        .finally(() => (running = false));
    }, intervalS * 1000);
    this.timer.unref();
    return () => clearInterval(this.timer);
  }
}

/** The map PERSON_ID_MAP names: a file path, or s3://bucket/key (read in `region`). */
export function openPersonMap(location: string, region?: string, s3?: S3Like): Promise<PersonMap> {
  return PersonMap.open(location.startsWith('s3://') ? s3Source(location, region, s3) : fileSource(location));
}

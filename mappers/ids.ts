import { table } from '../src/table.js';

// Instructure's Caliper ids: `urn:instructure:canvas:<kind>:<id>`. Most kinds are the Canvas asset
// type as is; a few are spelled differently in Instructure's output, and this table is the only place
// that knows which.
const URN_KIND: Record<string, string> = table({
  discussion_topic: 'discussion',
  discussion_entry: 'discussionEntry',
  wiki_page: 'wikiPage',
  group_category: 'groupCategory',
  group_membership: 'groupMembership',
});

export const URN_PREFIX = 'urn:instructure:canvas:';

/** The Caliper id of a Canvas object, e.g. urn('wiki_page', '12') = `urn:instructure:canvas:wikiPage:12`. */
export function urn(canvasType: string, id: string): string {
  return `${URN_PREFIX}${URN_KIND[canvasType] ?? canvasType}:${id}`;
}

export const userUrn = (id: string): string => urn('user', id);
export const courseUrn = (id: string): string => urn('course', id);
/** A section is named inside its course, as Instructure does: `…:course:<course>:section:<section>`. */
export const sectionUrn = (courseId: string, sectionId: string): string => `${courseUrn(courseId)}:section:${sectionId}`;
export const sessionUrn = (sessionId: string): string => urn('session', sessionId);

/** The application id Instructure uses: the Canvas host as an absolute IRI, or its default for jobs. */
export const DEFAULT_CANVAS_HOST = 'www.canvaslms.com';
export const appUrl = (hostname: string | undefined): string => `http://${hostname || DEFAULT_CANVAS_HOST}/`;

/** Canvas global ids: the shard id times 10^13 plus the id local to that shard. */
const SHARD_FACTOR = 10_000_000_000_000n;

/** The shard of a global id (e.g. a root account id, 21070000000000001 → 2107); undefined for a local id or not an id. */
export function shardOf(globalId: string | undefined): bigint | undefined {
  if (!globalId || !/^\d{1,30}$/.test(globalId)) return undefined;
  const shard = BigInt(globalId) / SHARD_FACTOR;
  return shard > 0n ? shard : undefined;
}

/**
 * A Canvas id in its global form, from any form Canvas writes it in: global (21070000000000565),
 * `shard~local` (2107~565), or local (565) on `shard` (the root account's). Digits are written
 * without leading zeros; a local id with no shard known stays local; anything that is not digits
 * (an LTI id) comes back as it is.
 */
export function globalId(id: string, shard?: bigint): string {
  const tilde = /^(\d{1,17})~(\d{1,13})$/.exec(id);
  if (tilde) return String(BigInt(tilde[1]!) * SHARD_FACTOR + BigInt(tilde[2]!));
  if (!/^\d{1,30}$/.test(id)) return id;
  const n = BigInt(id);
  // 0 is Canvas's "no user" (an unidentified visitor), on every shard.
  return String(shard !== undefined && n > 0n && n < SHARD_FACTOR ? shard * SHARD_FACTOR + n : n);
}

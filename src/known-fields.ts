// The body fields an event type may carry into the output, by allowlist: the top-level fields Canvas
// documents for the type (src/canvas-fields.ts, generated from Canvas's documentation) and the ones
// its mapper reads (its body schema: Canvas has sent some before documenting them). Any other field is
// left out before the mapper runs (knownBody), so no mapper, format or extension ever sees it: nothing
// unknown passes, whatever its name (a credential under a name nobody listed included). The worker
// counts and logs each one once (src/worker/unknown-fields.ts, which uses this same list).
import { MAPPERS } from '../mappers/index.js';
import { BODY_FIELDS } from './canvas-fields.js';
import type { RawEvent } from './raw.js';

/** The keys a mapper's body schema names (a zod object's shape). */
const readBy = (schema: unknown): string[] => Object.keys((schema as { shape?: object }).shape ?? {});

/** Per event type a mapper handles: the body fields documented for it or read by its mapper. */
export const KNOWN_BODY_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  [...MAPPERS].map(([type, m]) => [type, new Set([...(BODY_FIELDS[type] ?? []), ...readBy(m.body)])]),
);

/**
 * The raw event with only the body fields `known` names, at the top level; values (nested objects
 * under a known field included) as Canvas sent them. The event itself when every field is known (the
 * usual case: no copy); else a new event whose body holds the known fields, the input left as it is.
 */
export function knownBody<E extends RawEvent>(raw: E, known: ReadonlySet<string>): E {
  const body = raw.body;
  for (const key in body) {
    if (known.has(key) || body[key] === undefined) continue;
    const kept: Record<string, unknown> = {};
    // A known name is never `__proto__` (Canvas documents no such field, a zod shape cannot name it).
    for (const k in body) if (known.has(k)) kept[k] = body[k];
    return { ...raw, body: kept };
  }
  return raw;
}

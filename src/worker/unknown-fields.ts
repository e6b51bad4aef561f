// Canvas changes its events every few weeks: what it sends that we do not know is counted, per event
// type and field, and logged the first time it is seen. "Known": the top-level fields Canvas documents
// for the type's body, and for every event's metadata (src/canvas-fields.ts, generated from Canvas's
// documentation), and the body fields the type's mapper reads (its body schema: Canvas has sent some
// before documenting them): src/known-fields.ts, the same list that decides which body fields reach the
// output, so an unknown one is counted here and published nowhere. An event type is unknown when no
// mapper handles it. The names come from the sender, so the counters are bounded: past MAX_ENTRIES
// distinct entries only the overflow is counted.
import type { Logger } from 'pino';
import { MAPPERS } from '../../mappers/index.js';
import { METADATA_FIELDS } from '../canvas-fields.js';
import { KNOWN_BODY_FIELDS } from '../known-fields.js';

/** Distinct (event type, field) and unknown types counted one by one; past that, `overflow`. */
export const MAX_ENTRIES = 500;
/** Longer names are cut: a label, not a payload. */
const MAX_NAME = 100;

const KNOWN_METADATA = new Set(METADATA_FIELDS);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const cut = (name: string): string => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name);

export interface UnknownEntry {
  eventType: string;
  /** `body.<name>` or `metadata.<name>`; none for an unknown event type. */
  field?: string;
  count: number;
}

export class UnknownFields {
  /** Key: the event type, or `<type> <part>.<field>`. */
  private readonly entries = new Map<string, UnknownEntry>();
  /** Sightings past MAX_ENTRIES distinct entries. */
  overflow = 0;

  constructor(
    private readonly logger: Logger,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  /** An event's type, and (with the raw event) its body and metadata fields: a Set lookup per key. */
  see(eventName: string, raw?: unknown): void {
    if (!MAPPERS.has(eventName)) return this.count(eventName);
    if (!isObject(raw)) return;
    const body = KNOWN_BODY_FIELDS.get(eventName);
    if (body && isObject(raw.body)) for (const key in raw.body) if (!body.has(key)) this.count(eventName, 'body', key);
    if (isObject(raw.metadata)) for (const key in raw.metadata) if (!KNOWN_METADATA.has(key)) this.count(eventName, 'metadata', key);
  }

  /** Every entry counted, the unknown event types first. */
  list(): UnknownEntry[] {
    return [...this.entries.values()].sort((a, b) => Number(a.field !== undefined) - Number(b.field !== undefined));
  }

  /** Distinct unknown types and fields, and how often any was seen (for the stats line). */
  summary(): { types: number; fields: number; seen: number; overflow: number } {
    let types = 0;
    let seen = this.overflow;
    for (const e of this.entries.values()) {
      if (e.field === undefined) types++;
      seen += e.count;
    }
    return { types, fields: this.entries.size - types, seen, overflow: this.overflow };
  }

  private count(eventName: string, part?: 'body' | 'metadata', key?: string): void {
    const eventType = cut(eventName);
    const field = part ? `${part}.${cut(key!)}` : undefined;
    const id = field ? `${eventType} ${field}` : eventType;
    const entry = this.entries.get(id);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      if (this.overflow++ === 0) this.logger.warn({ limit: this.maxEntries }, `more than ${this.maxEntries} distinct unknown event types and fields: further ones are counted together (canvas_caliper_unknown_overflow_total)`);
      return;
    }
    this.entries.set(id, { eventType, ...(field ? { field } : {}), count: 1 });
    if (field) this.logger.info({ event_type: eventType, field }, `Canvas sent a field our mappers do not know: ${eventType} ${field} (counted in canvas_caliper_unknown_fields_total)`);
    else this.logger.info({ event_type: eventType }, `Canvas sent an event type no mapper handles: ${eventType} (counted in canvas_caliper_unknown_event_types_total)`);
  }
}

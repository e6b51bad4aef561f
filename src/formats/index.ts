// The output formats. `instructure` (the default) is what the mappers and builders make: exactly what
// Instructure emits. The strict formats are transforms of that event plus the raw event:
// `caliper-1.1` (strict IMS Caliper 1.1) and `caliper-1.2` (IMS Caliper 1.2, as strict).
import type { CaliperEvent } from '../caliper/model.js';
import type { RawEvent } from '../raw.js';
import { toCaliper11 } from './caliper11.js';
import { CALIPER_12_CONTEXT, toCaliper12, type Caliper12Options } from './caliper12.js';
import { CALIPER_CONTEXT } from '../caliper/model.js';
import { DECIMAL_PROPERTIES_12 } from '../caliper/model12.js';

export const FORMATS = ['instructure', 'caliper-1.1', 'caliper-1.2'] as const;
export type Format = (typeof FORMATS)[number];
export const DEFAULT_FORMAT: Format = 'instructure';

export const isFormat = (value: unknown): value is Format => FORMATS.includes(value as Format);

/** What the strict formats can be told (caliper-1.2 only: the edApp id a platform assigned, the session). */
export type FormatOptions = Caliper12Options;

/** The envelope's `dataVersion` and each event's `@context`. */
export const dataVersionOf = (format: Format): string => (format === 'caliper-1.2' ? CALIPER_12_CONTEXT : CALIPER_CONTEXT);

/**
 * The event in `format`, from the event in Instructure's format (pruned: no null or undefined values;
 * it is changed in place) and the raw event it was made from.
 */
export function toFormat(format: Format, event: CaliperEvent, raw: RawEvent, options: FormatOptions = {}): CaliperEvent {
  switch (format) {
    case 'instructure':
      return event;
    case 'caliper-1.1':
      return toCaliper11(event, raw);
    case 'caliper-1.2':
      return toCaliper12(event, raw, options);
  }
}

const DECIMALS = new RegExp(`("(?:${[...DECIMAL_PROPERTIES_12].join('|')})":\\s*-?\\d+)(?![\\d.eE])`, 'g');

/**
 * The JSON text of an envelope as it is published. A caliper-1.2 envelope writes its xsd:decimal
 * properties (maxScore, scoreGiven, …) with a fraction, 10.0 rather than 10, as IMS's 1.2 fixtures
 * do (their validator refuses 10 there); the value is the same JSON number. Other formats: JSON.stringify.
 */
export function serializeEnvelope(envelope: { dataVersion: string }, indent?: number): string {
  return serializeIn(envelope.dataVersion, envelope, indent);
}

/** The JSON text of a value (an envelope, or an event of one) as an envelope of `dataVersion` writes it. */
export function serializeIn(dataVersion: string, value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return dataVersion === CALIPER_12_CONTEXT ? text.replace(DECIMALS, '$1.0') : text;
}

// Which Canvas event types flow: an allow-list, a deny-list, and what becomes of an event_name no
// mapper handles. Shared by the worker (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS) and `map`.
import { MAPPERS } from '../mappers/index.js';

/** 'map': map it; 'skip': leave it out on purpose; 'unknown': no mapper handles it, and the caller reports it. */
export type Verdict = 'map' | 'skip' | 'unknown';
export type EventFilter = (eventName: string) => Verdict;

export interface EventFilterOptions {
  /** Only these event names (every other one, unknown ones included, is skipped). */
  only?: readonly string[];
  /** Never these (wins over `only`). */
  exclude?: readonly string[];
  /** An event_name no mapper handles: 'report' (default) gives 'unknown', 'skip' gives 'skip'. */
  unknown?: 'report' | 'skip';
}

export function eventFilter({ only, exclude = [], unknown = 'report' }: EventFilterOptions = {}): EventFilter {
  const allowed = only && new Set(only);
  const excluded = new Set(exclude);
  return (eventName) => {
    if (excluded.has(eventName) || (allowed && !allowed.has(eventName))) return 'skip';
    if (!MAPPERS.has(eventName)) return unknown === 'skip' ? 'skip' : 'unknown';
    return 'map';
  };
}

/** A comma-separated list of event names, trimmed, empty entries dropped. */
export const eventNameList = (text: string): string[] =>
  text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

/** The names no mapper handles (`canvas-caliper events` lists the others). */
export const unknownEventNames = (names: readonly string[]): string[] => names.filter((name) => !MAPPERS.has(name));

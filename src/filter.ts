// Which Canvas event types flow: an allow-list, a deny-list, and what becomes of an event_name no
// mapper handles. Shared by the worker (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS) and `map`.
import { MAPPERS } from '../mappers/index.js';
import { ACTIONS, EVENT_TYPES } from './caliper/model.js';
import { ACTIONS_12, EVENT_TYPES_12 } from './caliper/model12.js';

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

// CALIPER_EVENT_TYPES: which mapped events go, by their Caliper type (`ViewEvent`) or type and action
// (`GradeEvent.Graded`) in the output format. Known only once an event is mapped: the engine applies it.

/** Whether an event of this Caliper type and action is published. */
export type CaliperTypeFilter = (type: string, action: string) => boolean;

export function caliperTypeFilter(entries: readonly string[]): CaliperTypeFilter {
  const allowed = new Set(entries);
  return (type, action) => allowed.has(type) || allowed.has(`${type}.${action}`);
}

const CALIPER_EVENT_TYPES = new Set<string>([...EVENT_TYPES, ...EVENT_TYPES_12]);
const CALIPER_ACTIONS = new Set<string>([...ACTIONS, ...ACTIONS_12]);

/** The entries that are not a Caliper event type (1.1 or 1.2), or a type with an action Caliper does not have. */
export const unknownCaliperTypes = (entries: readonly string[]): string[] =>
  entries.filter((entry) => {
    const [type, action, ...more] = entry.split('.');
    return more.length > 0 || !CALIPER_EVENT_TYPES.has(type!) || (action !== undefined && !CALIPER_ACTIONS.has(action));
  });

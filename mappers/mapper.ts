import type { z } from 'zod';
import type { Action, EventType } from '../src/caliper/model.js';
import type { Body, RawEvent } from '../src/raw.js';
import type { EventParts } from './builders.js';

/** One Canvas event_name → one Caliper event. `map` is pure: the raw event in, the event's own parts out. */
export interface Mapper<S extends z.ZodType = z.ZodType> {
  eventName: string;
  type: EventType;
  action: Action;
  /** The Caliper object type(s), as listed by `canvas-caliper events`. */
  objectType: string;
  /** The body fields this mapper needs; other fields pass through unchecked. */
  body: S;
  map(raw: RawEvent<Body<S>>): EventParts;
}

export const mapper = <S extends z.ZodType>(m: Mapper<S>): Mapper<S> => m;

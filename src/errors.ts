/** Why an input could not become a Caliper envelope. `code` is stable (it becomes the DLQ error_code). */
export type MappingErrorCode =
  | 'INVALID_JSON'
  | 'NOT_AN_OBJECT'
  | 'INVALID_RAW_EVENT'
  | 'UNKNOWN_EVENT'
  | 'MAPPER_ERROR'
  | 'INVALID_CALIPER'
  | 'RECORD_TOO_LARGE'
  /** The Caliper endpoint (SINK=caliper-http) refused this one event: its status and answer are the reason. */
  | 'REFUSED_BY_ENDPOINT'
  /** PERSON_ID_MAP holds no platform id for a person of the event (PERSON_ID_UNMAPPED=dlq: replayed once the map has it). */
  | 'UNMAPPED_PERSON'
  /** CALIPER_EVENT_TYPES leaves the event's Caliper type out (a SkippedEvent: deleted unpublished, never parked). */
  | 'CALIPER_TYPE_EXCLUDED';

export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly code: MappingErrorCode,
    message: string,
    /** The Canvas event_name, when the input got far enough to have one. */
    readonly eventName?: string,
  ) {
    super(message);
  }
}

/**
 * An event left out on purpose once mapped: its Caliper type is not in CALIPER_EVENT_TYPES, or it names
 * a person the map does not hold and PERSON_ID_UNMAPPED=skip. The worker deletes it unpublished and
 * counts it under `label` (the Caliper `Type.Action`, or `unmapped_person`); `map` writes nothing for
 * it. Anywhere else it is the MappingError it extends (replay-dlq --direct leaves it in the DLQ).
 */
export class SkippedEvent extends MappingError {
  constructor(
    code: 'UNMAPPED_PERSON' | 'CALIPER_TYPE_EXCLUDED',
    message: string,
    readonly label: string,
    eventName?: string,
  ) {
    super(code, message, eventName);
  }
}

/** Thrown by builders when a field holds a value that cannot be mapped (e.g. an unparseable timestamp). */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A bad command line: the CLI prints it (every problem, one line each) with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.problems = list;
  }
}

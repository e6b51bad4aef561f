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
  | 'REFUSED_BY_ENDPOINT';

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

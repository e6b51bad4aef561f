// The event type filter shared by the worker (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS) and `map`.
import { describe, expect, it } from 'vitest';
import { MAPPERS } from '../mappers/index.js';
import { eventFilter, eventNameList, unknownEventNames } from '../src/filter.js';

const verdicts = (filter: (name: string) => string, names: string[]) => Object.fromEntries(names.map((n) => [n, filter(n)]));
const NAMES = ['logged_in', 'logged_out', 'wiki_page_created', 'no_such_event'];

describe('eventFilter', () => {
  it('with no options maps every known type and reports an unknown one', () => {
    expect(verdicts(eventFilter(), NAMES)).toEqual({ logged_in: 'map', logged_out: 'map', wiki_page_created: 'map', no_such_event: 'unknown' });
    const filter = eventFilter();
    expect([...MAPPERS.keys()].filter((name) => filter(name) !== 'map')).toEqual([]);
  });

  it('skips what is excluded; unknown: skip skips unknown types too', () => {
    expect(verdicts(eventFilter({ exclude: ['logged_out'] }), NAMES)).toEqual({ logged_in: 'map', logged_out: 'skip', wiki_page_created: 'map', no_such_event: 'unknown' });
    expect(verdicts(eventFilter({ exclude: ['logged_out'], unknown: 'skip' }), NAMES)).toEqual({ logged_in: 'map', logged_out: 'skip', wiki_page_created: 'map', no_such_event: 'skip' });
  });

  it('with an allow-list skips every other type, unknown ones included; exclude wins over only', () => {
    expect(verdicts(eventFilter({ only: ['logged_in', 'logged_out'] }), NAMES)).toEqual({ logged_in: 'map', logged_out: 'map', wiki_page_created: 'skip', no_such_event: 'skip' });
    expect(verdicts(eventFilter({ only: ['logged_in', 'logged_out'], exclude: ['logged_out'] }), NAMES)).toEqual({ logged_in: 'map', logged_out: 'skip', wiki_page_created: 'skip', no_such_event: 'skip' });
  });
});

describe('event name lists', () => {
  it('splits on commas, trims, drops empty entries', () => {
    expect(eventNameList(' logged_in,, wiki_page_created ,')).toEqual(['logged_in', 'wiki_page_created']);
    expect(eventNameList(' , ')).toEqual([]);
  });

  it('names the entries no mapper handles, from the registry (whatever its size)', () => {
    expect(unknownEventNames(['logged_in', 'nope', 'wiki_page_created', 'Logged_In'])).toEqual(['nope', 'Logged_In']);
    expect(unknownEventNames([...MAPPERS.keys()])).toEqual([]);
  });
});

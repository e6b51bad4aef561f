// A fast yes/no check compiled from a zod schema, for the per-event path: zod stays the single source
// of the rules and of the wording of errors, and is asked only when the fast check says no. The
// compiled check is never more lenient than zod: what it does not understand it asks zod about, and
// where it is stricter (e.g. non-finite numbers) zod has the last word on the slow path.
import type { z } from 'zod';
import { isPlainObject } from './json.js';

export type Check = (value: unknown) => boolean;

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string; format?: string; minimum?: number; maximum?: number; length?: number; value?: number; inclusive?: boolean; pattern?: RegExp } } }[];
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  entries?: Record<string, unknown>;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
}


const compiled = new WeakMap<z.ZodType, Check>();

/** The fast check of a schema (compiled once per schema). */
export function fastCheck(schema: z.ZodType): Check {
  let check = compiled.get(schema);
  if (!check) {
    check = compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

function compile(schema: z.ZodType): Check {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  const slow: Check = (v) => schema.safeParse(v).success;
  const refinements = compileChecks(def);
  if (refinements === undefined) return slow;
  switch (def.type) {
    case 'string':
      return refinements === NONE ? (v) => typeof v === 'string' : (v) => typeof v === 'string' && refinements(v);
    case 'number':
      return (v) => typeof v === 'number' && Number.isFinite(v) && refinements(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'unknown':
    case 'any':
      return () => true;
    case 'optional': {
      // .nullish() is optional(nullable(…)): one test for both.
      const innerDef = (def.innerType as unknown as { _zod: { def: Def } })._zod.def;
      if (innerDef.type === 'nullable') {
        const inner = compile(innerDef.innerType!);
        return (v) => v == null || inner(v);
      }
      const inner = compile(def.innerType!);
      return (v) => v === undefined || inner(v);
    }
    case 'nullable': {
      const inner = compile(def.innerType!);
      return (v) => v === null || inner(v);
    }
    case 'union': {
      const options = def.options!.map(compile);
      return (v) => options.some((o) => o(v));
    }
    case 'enum': {
      const entries = new Set(Object.values(def.entries!));
      return (v) => entries.has(v);
    }
    case 'literal': {
      const values = def.values!;
      return (v) => values.includes(v);
    }
    case 'array': {
      const element = compile(def.element!);
      return (v) => Array.isArray(v) && v.every(element) && refinements(v);
    }
    case 'object': {
      // z.object and z.looseObject accept unknown keys (the catchall is unknown); z.strictObject none (never).
      const catchall = def.catchall && (def.catchall as unknown as { _zod: { def: Def } })._zod.def.type;
      if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'never') return slow;
      const keys = Object.keys(def.shape!);
      const checks = keys.map((key) => compile(def.shape![key]!));
      const known = catchall === 'never' ? new Set(keys) : undefined;
      return objectCheck(keys, checks, known);
    }
    case 'record': {
      const keyType = (def.keyType as unknown as { _zod: { def: Def } })._zod.def;
      if (keyType.type !== 'string' || keyType.checks?.length) return slow;
      const value = compile(def.valueType!);
      return (v) => isPlainObject(v) && Object.values(v).every(value);
    }
    default:
      return slow;
  }
}

/**
 * An object's check, generated as source so that each property is read by name (`v["hostname"]`): a
 * read by a constant name is several times faster than by a key from an array. The names come from
 * our own schemas and are written as JSON string literals.
 */
function objectCheck(keys: string[], checks: Check[], known: Set<string> | undefined): Check {
  const body = [
    'return (v) => {',
    '  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;',
    ...keys.map((key, i) => `  if (!c${i}(v[${JSON.stringify(key)}])) return false;`),
    known ? '  for (const key in v) if (!known.has(key)) return false;' : '',
    '  return true;',
    '};',
  ].join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our schemas' own keys (see above)
  return new Function(...keys.map((_, i) => `c${i}`), 'known', body)(...checks, known) as Check;
}

/** The schema's own checks (length, regex, integer, bounds) as one function; undefined when one of them is not understood. */
function compileChecks(def: Def): ((v: any) => boolean) | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each part reads the value its check is for
  const parts: ((v: any) => boolean)[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length') parts.push((v: { length: number }) => v.length >= d.minimum!);
    else if (d.check === 'max_length') parts.push((v: { length: number }) => v.length <= d.maximum!);
    else if (d.check === 'length_equals') parts.push((v: { length: number }) => v.length === d.length!);
    else if (d.check === 'string_format' && d.format === 'regex') {
      const pattern = new RegExp(d.pattern!.source, d.pattern!.flags.replace('g', ''));
      parts.push((v: string) => pattern.test(v));
    } else if (d.check === 'number_format' && d.format === 'safeint') parts.push((v: number) => Number.isSafeInteger(v));
    else if (d.check === 'greater_than') parts.push((v: number) => (d.inclusive ? v >= d.value! : v > d.value!));
    else if (d.check === 'less_than') parts.push((v: number) => (d.inclusive ? v <= d.value! : v < d.value!));
    else return undefined;
  }
  if (parts.length === 0) return NONE;
  if (parts.length === 1) return parts[0];
  return (v) => parts.every((p) => p(v));
}
/** No checks of its own. */
const NONE = (): boolean => true;

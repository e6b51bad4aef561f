// IMS's official Caliper JSON Schemas (test/fixtures/caliper-json-schema/, see its SOURCE.md), loaded
// with ajv for the tests: draft-04, non-strict, each file under its `id` without its `schema` key, and
// IMS's number formats registered as always valid.
import fs from 'node:fs';
import path from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

const DIR = path.join(import.meta.dirname, 'fixtures', 'caliper-json-schema');
const IMS_NUMBER_FORMATS = ['uint32', 'int32', 'long', 'uint64', 'int64', 'float', 'double', 'byte', 'binary', 'password'];

export interface ImsSchemas {
  /** The schema named `id` (an event or entity type, `Envelope`). */
  schema(id: string): ValidateFunction;
  /** Problems of `value` under schema `id`, as `path message` lines; [] when valid. */
  errors(id: string, value: unknown): string[];
}

export function loadImsSchemas(version: '1_1' | '1_2'): ImsSchemas {
  const Ajv = AjvDraft04 as unknown as new (options: object) => import('ajv').default;
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
  (addFormats as unknown as (a: unknown) => void)(ajv);
  for (const f of IMS_NUMBER_FORMATS) ajv.addFormat(f, true);
  const dir = path.join(DIR, `schema_${version}`);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const { schema: _dropped, ...schema } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    ajv.addSchema(schema, schema.id);
  }
  const schema = (id: string) => {
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`IMS ${version} has no schema ${id}`);
    return validate;
  };
  return {
    schema,
    errors: (id, value) => {
      const validate = schema(id);
      return validate(value) ? [] : (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    },
  };
}

const loaded: Partial<Record<'1_1' | '1_2', ImsSchemas>> = {};

/** IMS's schema verdict on an envelope: 1.1's Envelope as it is; 1.2's once per data item (its Envelope schema describes one item, SOURCE.md). */
export function imsEnvelopeErrors(format: 'caliper-1.1' | 'caliper-1.2', envelope: { data: { type: string }[] }): string[] {
  const version = format === 'caliper-1.1' ? '1_1' : '1_2';
  const ims = (loaded[version] ??= loadImsSchemas(version));
  const events = envelope.data.flatMap((event) => ims.errors(event.type, event).map((e) => `${event.type}: ${e}`));
  const envelopes = format === 'caliper-1.1' ? ims.errors('Envelope', envelope) : envelope.data.flatMap((item) => ims.errors('Envelope', { ...envelope, data: item }));
  return [...events, ...envelopes.map((e) => `Envelope: ${e}`)];
}

/**
 * The part of Bullhorn's data model the emulator serves, with its field types and read-only flags (from
 * Bullhorn's entity reference), and the strict parsing of `fields=` and of entity bodies built on it.
 * Sensitive fields (comments, salary, rates, ssn) exist so that tests can prove they are never read.
 */

export type FieldType = 'int' | 'string' | 'bool' | 'timestamp' | 'decimal' | 'toOne' | 'toMany';

export interface FieldSpec {
  type: FieldType;
  /** Target entity of an association; `Person` is any Candidate or ClientContact. */
  target?: string;
  readOnly?: boolean;
  /** String length limit. */
  max?: number;
  /** Must be given on create (not null, no default). */
  required?: boolean;
}

export type EntitySchema = Record<string, FieldSpec>;

const id: FieldSpec = { type: 'int', readOnly: true };
const str = (max: number, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'string', max, ...extra });
const time: FieldSpec = { type: 'timestamp' };
const readOnlyTime: FieldSpec = { type: 'timestamp', readOnly: true };
const money: FieldSpec = { type: 'decimal' };
const bool: FieldSpec = { type: 'bool' };

const personCommon: EntitySchema = {
  id,
  firstName: str(50),
  lastName: str(50),
  middleName: str(50),
  name: str(100),
  email: str(100),
  email2: str(100),
  email3: str(100),
  phone: str(20),
  mobile: str(20),
  occupation: str(50),
  status: str(100),
  type: str(100),
  comments: str(2_147_483_647),
  description: str(2_147_483_647),
  isDeleted: bool,
  dateAdded: time,
  dateLastModified: readOnlyTime,
  customText1: str(100),
  customDate1: time,
};

export const SCHEMAS: Record<string, EntitySchema> = {
  ClientContact: {
    ...personCommon,
    clientCorporation: { type: 'toOne', target: 'ClientCorporation' },
    division: str(40),
    dateLastVisit: time,
    notes: { type: 'toMany', target: 'Note', readOnly: true },
  },
  Candidate: {
    ...personCommon,
    companyName: str(100),
    salary: money,
    salaryLow: money,
    dayRate: money,
    hourlyRate: money,
    ssn: str(18),
    dateOfBirth: time,
    dateLastComment: readOnlyTime,
    notes: { type: 'toMany', target: 'Note', readOnly: true },
  },
  ClientCorporation: { id, name: str(100), status: str(30), dateAdded: time },
  Note: {
    id,
    action: str(30),
    comments: str(2_147_483_647, { required: true }),
    personReference: { type: 'toOne', target: 'Person', required: true },
    commentingPerson: { type: 'toOne', target: 'Person' },
    externalID: str(100),
    isDeleted: bool,
    minutesSpent: { type: 'int' },
    dateAdded: time,
    dateLastModified: readOnlyTime,
    entities: { type: 'toMany', target: 'NoteEntity', readOnly: true },
  },
  NoteEntity: {
    id,
    note: { type: 'toOne', target: 'Note', required: true },
    targetEntityID: { type: 'int', required: true },
    targetEntityName: str(50, { required: true }),
  },
};

export const PERSON_ENTITIES = ['ClientContact', 'Candidate'];
/** Entities in Bullhorn's Lucene index (`search`); the others are reached through `query`. */
export const SEARCHABLE = new Set(['ClientContact', 'Candidate', 'ClientCorporation', 'Note']);

/** A requested field, with the sub-fields of an association (`clientCorporation(id,name)`). */
export interface FieldSelection {
  name: string;
  sub: FieldSelection[] | null;
}

export class BadRequest extends Error {}

function schemaOf(entity: string): EntitySchema {
  if (entity === 'Person') return personCommon;
  const schema = SCHEMAS[entity];
  if (schema === undefined) throw new BadRequest(`Invalid entity type '${entity}'`);
  return schema;
}

/** Parses `fields=` strictly against the entity: unknown names, empty parts and bad nesting are errors. */
export function parseFields(entity: string, raw: string | null): FieldSelection[] {
  if (raw === null || raw.trim() === '') throw new BadRequest("Missing required parameter 'fields'");
  let position = 0;
  const parseList = (owner: string): FieldSelection[] => {
    const schema = schemaOf(owner);
    const list: FieldSelection[] = [];
    for (;;) {
      const match = /^\s*([A-Za-z_][A-Za-z0-9_]*|\*)\s*/.exec(raw.slice(position));
      if (match === null) throw new BadRequest(`Malformed fields parameter at position ${position}`);
      position += match[0].length;
      const name = match[1] as string;
      if (name !== '*' && schema[name] === undefined) throw new BadRequest(`Invalid field '${name}' for entity '${owner}'`);
      let sub: FieldSelection[] | null = null;
      if (raw[position] === '(') {
        const spec = schema[name];
        if (spec?.target === undefined) throw new BadRequest(`Field '${name}' of '${owner}' takes no sub-fields`);
        position++;
        sub = parseList(spec.target);
        if (raw[position] !== ')') throw new BadRequest('Unbalanced parentheses in fields parameter');
        position++;
      }
      list.push({ name, sub });
      if (raw[position] !== ',') return list;
      position++;
    }
  };
  const fields = parseList(entity);
  if (position !== raw.length) throw new BadRequest(`Malformed fields parameter at position ${position}`);
  return fields;
}

/** Every field name of an entity, for `*` and for callers asserting what was read. */
export function fieldNames(entity: string): string[] {
  return Object.keys(schemaOf(entity));
}

/**
 * Checks an entity body for create (`PUT`) or update (`POST`): known, writable fields of the right type
 * only; associations as `{ id }`. Returns the problems, Bullhorn-style, or an empty list.
 */
export function validateBody(entity: string, body: unknown, mode: 'create' | 'update'): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['Request body must be a JSON object'];
  const schema = schemaOf(entity);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(body)) {
    const spec = schema[name];
    if (spec === undefined) {
      problems.push(`Invalid field '${name}' for entity '${entity}'`);
      continue;
    }
    if (spec.readOnly) {
      problems.push(`Field '${name}' of entity '${entity}' is read-only`);
      continue;
    }
    if (!valueFits(spec, value)) problems.push(`Invalid value for field '${name}' of entity '${entity}'`);
  }
  if (mode === 'create') {
    for (const [name, spec] of Object.entries(schema)) {
      if (spec.required && (body as Record<string, unknown>)[name] === undefined) problems.push(`Missing required field '${name}' for entity '${entity}'`);
    }
  }
  return problems;
}

function valueFits(spec: FieldSpec, value: unknown): boolean {
  if (value === null) return !spec.required;
  switch (spec.type) {
    case 'int':
      return Number.isSafeInteger(value);
    case 'timestamp':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && value.length <= (spec.max ?? Infinity);
    case 'toOne':
      return typeof value === 'object' && Object.keys(value as object).join() === 'id' && Number.isSafeInteger((value as { id: unknown }).id);
    case 'toMany':
      return false;
  }
}

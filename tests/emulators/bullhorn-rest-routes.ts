import { json, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';
import { restError } from './bullhorn-oauth.ts';
import { parseLucene, parseOrder, parseWhere, type Row } from './bullhorn-query-syntax.ts';
import { BadRequest, PERSON_ENTITIES, SCHEMAS, SEARCHABLE, fieldNames, parseFields, validateBody, type FieldSelection } from './bullhorn-schema.ts';

/**
 * Bullhorn's entity data and the REST operations on it: `search` (Lucene), `query` (where), `entity`
 * GET / PUT (create) / POST (update). Person ids (Candidate and ClientContact) share one sequence, as
 * Bullhorn's Person supertype does.
 */
export class BullhornStore {
  readonly #tables = new Map<string, Map<number, Row>>(Object.keys(SCHEMAS).map((name) => [name, new Map()]));
  #nextPersonId = 1001;
  #nextId = 50_001;

  insert(entity: string, values: Row): number {
    const id = PERSON_ENTITIES.includes(entity) ? this.#nextPersonId++ : this.#nextId++;
    const now = Date.now();
    const defaults: Row = { dateAdded: now, dateLastModified: now, ...(SCHEMAS[entity]?.['isDeleted'] ? { isDeleted: false } : {}) };
    this.table(entity).set(id, { ...defaults, ...values, id });
    if (entity === 'Note') this.#noteAdded(values);
    return id;
  }

  update(entity: string, id: number, values: Row): void {
    const row = this.table(entity).get(id);
    if (row === undefined) throw new Error(`no ${entity} ${id}`);
    Object.assign(row, values, { dateLastModified: Date.now() });
  }

  get(entity: string, id: number): Row | undefined {
    return this.table(entity).get(id);
  }

  rows(entity: string): Row[] {
    return [...this.table(entity).values()];
  }

  table(entity: string): Map<number, Row> {
    const table = this.#tables.get(entity);
    if (table === undefined) throw new BadRequest(`Invalid entity type '${entity}'`);
    return table;
  }

  /** The Candidate or ClientContact with this Person id. */
  person(id: number): { entity: string; row: Row } | undefined {
    for (const entity of PERSON_ENTITIES) {
      const row = this.table(entity).get(id);
      if (row !== undefined) return { entity, row };
    }
    return undefined;
  }

  // Bullhorn keeps Candidate.dateLastComment at the newest Note about the candidate.
  #noteAdded(values: Row): void {
    const reference = values['personReference'] as { id: number } | undefined;
    const found = reference === undefined ? undefined : this.person(reference.id);
    if (found?.entity === 'Candidate') found.row['dateLastComment'] = Date.now();
  }
}

/** A write the next matching PUT/POST suffers: refused outright, or done and then answered with an error. */
export interface InjectedWriteFailure {
  entity: string;
  /** True: the write is committed and only the answer is lost (a gateway timeout after the fact). */
  commit: boolean;
  status: number;
}

/** Serves `/rest-services/{corpToken}/{rest}` once the session is checked. */
export function serveRest(store: BullhornStore, request: EmulatorRequest, segments: string[], failures: InjectedWriteFailure[]): EmulatorResponse {
  try {
    const [operation, entity, id, ...extra] = segments;
    if (operation === 'ping' && entity === undefined) return json(200, { sessionExpires: Date.now() + 600_000 });
    if (entity === undefined || SCHEMAS[entity] === undefined) return restError(400, `Invalid entity type '${String(entity).slice(0, 60)}'`, 'errors.badRequest');
    if (extra.length > 0) return restError(404, 'Not found', 'errors.notFound');
    const query = request.url.searchParams;
    if (operation === 'search' && request.method === 'GET' && id === undefined) {
      if (!SEARCHABLE.has(entity)) return restError(400, `Entity '${entity}' is not searchable; use query`, 'errors.badRequest');
      return list(store, entity, parseLucene(entity, query.get('query')), query, 'sort');
    }
    if (operation === 'query' && request.method === 'GET' && id === undefined) {
      return list(store, entity, parseWhere(entity, query.get('where')), query, 'orderBy');
    }
    if (operation !== 'entity') return restError(404, 'Not found', 'errors.notFound');
    if (request.method === 'GET' && id !== undefined) {
      const row = store.get(entity, entityId(id));
      const fields = parseFields(entity, query.get('fields'));
      if (row === undefined) return restError(404, `Entity '${entity}' with id ${id} not found`, 'errors.entityNotFound');
      return json(200, { data: project(store, entity, row, fields) });
    }
    if ((request.method === 'PUT' && id === undefined) || (request.method === 'POST' && id !== undefined)) {
      return write(store, request, entity, id === undefined ? null : entityId(id), failures);
    }
    return restError(405, `Method ${request.method} not allowed here`, 'errors.methodNotAllowed');
  } catch (error) {
    if (error instanceof BadRequest) return restError(400, error.message, 'errors.badRequest');
    throw error;
  }
}

function entityId(raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new BadRequest(`Invalid entity id '${raw.slice(0, 20)}'`);
  return Number(raw);
}

function list(store: BullhornStore, entity: string, predicate: (row: Row) => boolean, query: URLSearchParams, orderParam: string): EmulatorResponse {
  const fields = parseFields(entity, query.get('fields'));
  const count = bounded(query.get('count'), 20, 1, 500, 'count');
  const start = bounded(query.get('start'), 0, 0, 100_000, 'start');
  const order = parseOrder(entity, query.get(orderParam));
  const matched = store.rows(entity).filter(predicate).sort(order);
  const page = matched.slice(start, start + count).map((row) => project(store, entity, row, fields));
  return json(200, { total: matched.length, start, count: page.length, data: page });
}

function bounded(raw: string | null, fallback: number, min: number, max: number, name: string): number {
  if (raw === null) return fallback;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new BadRequest(`Invalid value for '${name}'`);
  return Number(raw);
}

function project(store: BullhornStore, entity: string, row: Row, fields: FieldSelection[]): Row {
  const schema = SCHEMAS[entity] ?? {};
  const out: Row = { id: row['id'] };
  const selections = fields.some((field) => field.name === '*') ? fieldNames(entity).map((name) => ({ name, sub: null })) : fields;
  for (const { name, sub } of selections) {
    const spec = schema[name];
    if (spec?.type === 'toMany') {
      const related = toMany(store, entity, name, Number(row['id']));
      out[name] = { total: related.length, data: related.slice(0, 5).map((r) => ({ id: r['id'] })) };
    } else if (spec?.type === 'toOne') {
      const reference = row[name] as { id: number } | null | undefined;
      if (reference === undefined || reference === null) out[name] = null;
      else if (sub === null) out[name] = { id: reference.id };
      else {
        const target = spec.target === 'Person' ? store.person(reference.id) : { entity: spec.target as string, row: store.get(spec.target as string, reference.id) };
        out[name] = target?.row === undefined ? { id: reference.id } : project(store, target.entity, target.row, sub);
      }
    } else {
      out[name] = row[name] ?? null;
    }
  }
  return out;
}

function toMany(store: BullhornStore, entity: string, name: string, id: number): Row[] {
  if (name === 'notes') return store.rows('Note').filter((note) => (note['personReference'] as { id: number } | undefined)?.id === id);
  if (entity === 'Note' && name === 'entities') return store.rows('NoteEntity').filter((link) => (link['note'] as { id: number }).id === id);
  return [];
}

function write(store: BullhornStore, request: EmulatorRequest, entity: string, id: number | null, failures: InjectedWriteFailure[]): EmulatorResponse {
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return restError(400, 'Malformed JSON in request body', 'errors.badRequest');
  }
  const problems = validateBody(entity, body, id === null ? 'create' : 'update');
  const values = body as Row;
  if (id !== null && store.get(entity, id) === undefined) return restError(404, `Entity '${entity}' with id ${id} not found`, 'errors.entityNotFound');
  problems.push(...danglingReferences(store, entity, values));
  if (problems.length > 0) {
    return json(400, {
      errorMessage: problems.join('; '),
      errorMessageKey: 'errors.badRequest',
      errorCode: 400,
      errors: problems.map((detailMessage) => ({ severity: 'ERROR', type: 'INVALID_FIELD', detailMessage })),
    });
  }
  const failureAt = failures.findIndex((failure) => failure.entity === entity);
  const failure = failureAt === -1 ? undefined : failures.splice(failureAt, 1)[0];
  if (failure !== undefined && !failure.commit) return restError(failure.status, 'Injected failure', 'errors.injected');
  let changedId = id;
  if (changedId === null) changedId = store.insert(entity, values);
  else store.update(entity, changedId, values);
  if (failure !== undefined) return restError(failure.status, 'Injected failure after commit', 'errors.injected');
  return json(200, { changedEntityType: entity, changedEntityId: changedId, changeType: id === null ? 'INSERT' : 'UPDATE', data: values });
}

function danglingReferences(store: BullhornStore, entity: string, values: Row): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(SCHEMAS[entity] ?? {})) {
    const reference = values[name] as { id?: number } | null | undefined;
    if (spec.type !== 'toOne' || typeof reference?.id !== 'number') continue;
    const exists = spec.target === 'Person' ? store.person(reference.id) !== undefined : store.get(spec.target as string, reference.id) !== undefined;
    if (!exists) problems.push(`Invalid association '${name}': no ${spec.target} with id ${reference.id}`);
  }
  if (entity === 'NoteEntity' && typeof values['targetEntityName'] === 'string') {
    const name = values['targetEntityName'];
    if (!['User', 'JobOrder', 'Placement'].includes(name)) problems.push(`Invalid targetEntityName '${name.slice(0, 40)}': use User for people`);
    else if (name === 'User' && store.person(Number(values['targetEntityID'])) === undefined) problems.push('targetEntityID names no person');
  }
  return problems;
}

import type { IncomingHttpHeaders } from 'node:http';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { PRIMARY_CALENDAR_ID, dateTimeTimeZone, expandRefusal, findEvent, graphError, irresolvableConflict, newEventRestId, odataEtag, parseObject, selection, type GraphEventChange, type StoredEvent } from './graph-calendar-wire.ts';

/**
 * One event of the Graph calendar by id: GET, PATCH and POST .../cancel on /me/events/{id} (or
 * /me/calendar/events/{id}, which finds an event of another calendar too, as Graph does), and GET of
 * .../calendar, the calendar it is in. Strict where Graph is: a malformed id is 400 ErrorInvalidIdMalformed, an
 * unknown one 404 ErrorItemNotFound, a property the event type does not have is 400 RequestBodyRead, only
 * the organizer may cancel (400 otherwise), and a cancelled meeting moves to Deleted Items, so the
 * calendar no longer finds it by that id. An attendee's PATCH changes only their own copy. Every change
 * gives the event a new `@odata.etag`; a PATCH with a stale `If-Match` is 412 ErrorIrresolvableConflict
 * and writes nothing, one without is unconditional. The cancel action documents no If-Match and ignores it.
 */

const ADDRESS = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;
const EVENT_ID = /^AAMk[A-Za-z0-9_=+-]+$/;
/** The event properties a PATCH may carry here; Graph refuses names the type does not define. */
const PATCHABLE = new Set(['subject', 'body', 'start', 'end', 'location', 'attendees', 'showAs']);
const ATTENDEE_TYPES = ['required', 'optional', 'resource'];

type Render = (event: StoredEvent, zone: string, select: string[] | undefined, prefer: string) => Record<string, unknown>;

export class GraphEventRoutes {
  readonly #events: StoredEvent[];
  readonly #render: Render;
  readonly #changes: GraphEventChange[] = [];

  constructor(events: StoredEvent[], render: Render) {
    this.#events = events;
    this.#render = render;
  }

  addForeign(input: { organizer: string; subject: string; start: Date; end: Date; attendees?: string[] }): string {
    const id = `AAMkFx${randomId()}`;
    const invited = [...new Set((input.attendees ?? []).map((a) => a.toLowerCase()))];
    this.#events.push({
      id,
      restId: newEventRestId(),
      subject: input.subject,
      start: input.start.getTime(),
      end: input.end.getTime(),
      timeZone: 'UTC',
      showAs: 'busy',
      attendees: invited.map((address) => ({ address, type: 'required' })),
      transactionId: null,
      seeded: false,
      organizer: input.organizer.toLowerCase(),
    });
    return id;
  }

  changes(): GraphEventChange[] {
    return this.#changes.map((c) => ({ ...c, attendees: [...c.attendees], added: [...c.added] }));
  }

  /** Someone else adds an attendee to the event (the owner in Outlook, say): a new change key, no request logged. */
  addAttendeeBehindTheAgent(id: string, address: string): void {
    const event = findEvent(this.#events, id);
    if (event === undefined) throw new Error(`no event ${id}`);
    event.attendees = [...event.attendees, { address: address.toLowerCase(), type: 'required' }];
    event.changeKey = (event.changeKey ?? 0) + 1;
  }

  /**
   * `part`: the event itself, its cancel action, or the calendar it is in. The event is found by its
   * immutable or its default id; `prefer` (the request's Prefer header) decides which id the answer names.
   */
  handle(method: string, id: string, part: 'event' | 'cancel' | 'calendar', query: URLSearchParams, body: string, zone: string, headers: IncomingHttpHeaders = {}, prefer = ''): EmulatorResponse {
    const cancel = part === 'cancel';
    if (cancel ? method !== 'POST' : part === 'calendar' ? method !== 'GET' : method !== 'GET' && method !== 'PATCH') {
      return graphError(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
    }
    if (!EVENT_ID.test(id)) return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    const event = findEvent(this.#events, id);
    if (event === undefined) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    if (cancel) return this.#cancel(event, body);
    if (part === 'calendar') return json(200, { id: event.calendarId ?? PRIMARY_CALENDAR_ID, name: event.calendarId === undefined ? 'Calendar' : 'Other' });
    if (method === 'PATCH') return this.#stale(event, headers['if-match']) ?? this.#patch(event, body, zone, prefer);
    const refused = expandRefusal(query);
    if (refused !== null) return refused;
    const select = selection(query);
    if (select === null) return graphError(400, 'ErrorInvalidProperty', 'Could not find a property named in $select.');
    return json(200, this.#render(event, zone, select, prefer));
  }

  /** The 412 Graph answers a write whose If-Match names another version of the item (`*`: any); null when it may go ahead. */
  #stale(event: StoredEvent, ifMatch: string | string[] | undefined): EmulatorResponse | null {
    if (ifMatch === undefined) return null;
    const wanted = (Array.isArray(ifMatch) ? ifMatch.join(',') : ifMatch).split(',').map((tag) => tag.trim());
    if (wanted.includes('*') || wanted.includes(odataEtag(event))) return null;
    return irresolvableConflict();
  }

  #patch(event: StoredEvent, body: string, zone: string, prefer: string): EmulatorResponse {
    const request = parseObject(body);
    if (request === null) return graphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    const unknown = Object.keys(request).find((key) => !PATCHABLE.has(key));
    if (unknown !== undefined) {
      return graphError(400, 'RequestBodyRead', `The property '${unknown}' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type.`);
    }
    const start = request['start'] === undefined ? event.start : dateTimeTimeZone(request['start'], 'start');
    if (typeof start === 'object') return start;
    const end = request['end'] === undefined ? event.end : dateTimeTimeZone(request['end'], 'end');
    if (typeof end === 'object') return end;
    if (end < start) return graphError(400, 'ErrorInvalidRequest', 'The end time of the event must be after its start time.');
    let attendees = event.attendees;
    if (request['attendees'] !== undefined) {
      const parsed = attendeeList(request['attendees']);
      if (parsed === null) return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
      attendees = parsed;
    }
    if (request['subject'] !== undefined && typeof request['subject'] !== 'string') return graphError(400, 'BadRequest', 'Invalid subject.');
    const text = request['body'] as { contentType?: unknown; content?: unknown } | undefined;
    if (text !== undefined && (typeof text?.content !== 'string' || !['text', 'html'].includes(String(text.contentType ?? 'text')))) {
      return graphError(400, 'BadRequest', 'Invalid body.');
    }
    const place = request['location'] as { displayName?: unknown } | undefined;
    if (place !== undefined && typeof place?.displayName !== 'string') return graphError(400, 'BadRequest', 'Invalid location.');
    const before = new Set(event.attendees.map((a) => a.address));
    Object.assign(event, {
      start,
      end,
      attendees,
      subject: (request['subject'] as string | undefined) ?? event.subject,
      ...(request['start'] === undefined ? {} : { timeZone: String((request['start'] as { timeZone: string }).timeZone) }),
      ...(text === undefined ? {} : { body: text.content }),
      ...(place === undefined ? {} : { location: place.displayName }),
      changeKey: (event.changeKey ?? 0) + 1,
    });
    this.#changes.push({
      id: event.id,
      method: 'PATCH',
      attendees: attendees.map((a) => a.address),
      added: attendees.map((a) => a.address).filter((a) => !before.has(a)),
      comment: null,
      byOrganizer: (event.organizer ?? null) === null,
    });
    return json(200, this.#render(event, zone, undefined, prefer));
  }

  #cancel(event: StoredEvent, body: string): EmulatorResponse {
    const request = body === '' ? {} : parseObject(body);
    if (request === null) return graphError(400, 'BadRequest', 'Invalid JSON payload.');
    const unknown = Object.keys(request).find((key) => key !== 'comment');
    if (unknown !== undefined) return graphError(400, 'RequestBodyRead', `The parameter '${unknown}' in the request payload is not a valid parameter for the operation 'cancel'.`);
    if (request['comment'] !== undefined && typeof request['comment'] !== 'string') return graphError(400, 'BadRequest', 'Invalid comment.');
    if ((event.organizer ?? null) !== null) {
      return graphError(400, 'ErrorInvalidRequest', "Your request can't be completed. You need to be an organizer to cancel a meeting.");
    }
    // Moved to Deleted Items: gone from the calendar, and its id there is another one.
    this.#events.splice(this.#events.indexOf(event), 1);
    this.#changes.push({
      id: event.id,
      method: 'cancel',
      attendees: event.attendees.map((a) => a.address),
      added: [],
      comment: typeof request['comment'] === 'string' ? request['comment'] : null,
      byOrganizer: true,
    });
    return { status: 202 };
  }
}

function attendeeList(value: unknown): { address: string; type: string }[] | null {
  if (!Array.isArray(value)) return null;
  const result: { address: string; type: string }[] = [];
  for (const attendee of value as { emailAddress?: { address?: unknown }; type?: unknown }[]) {
    const address = attendee?.emailAddress?.address;
    const type = attendee?.type ?? 'required';
    if (typeof address !== 'string' || !ADDRESS.test(address) || typeof type !== 'string' || !ATTENDEE_TYPES.includes(type)) return null;
    result.push({ address: address.toLowerCase(), type });
  }
  return result;
}

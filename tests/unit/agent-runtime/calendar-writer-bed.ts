// A runtime allowed to write the calendar, and a calendar that records the events created on it, for
// tests of the agent's calendar writes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import type { CalendarEvent, CalendarProvider, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import { clientConfig, openTestRuntime, type TestRuntime } from './calendar-runtime-fixture.ts';

/** The agent's action creating a one-hour planning meeting on 3 June 2026 with `participants`. */
export function planningEvent(participants: string[]) {
  return {
    kind: 'calendar.write' as const,
    operation: 'create' as const,
    title: 'Planning',
    start: '2026-06-03T10:00:00+02:00',
    end: '2026-06-03T11:00:00+02:00',
    participants,
  };
}

/** A calendar with no busy time that creates every event asked of it and keeps them in `created`. */
export class CreatingCalendar implements CalendarProvider {
  readonly created: NewEvent[] = [];
  freeBusy(): Promise<never[]> {
    return Promise.resolve([]);
  }
  createEvent(event: NewEvent): Promise<CalendarEvent> {
    this.created.push(event);
    return Promise.resolve({ id: `ev-${this.created.length}`, title: event.title, start: event.start, end: event.end, attendees: [...event.attendees], idempotencyKey: event.idempotencyKey });
  }
  findEventByIdempotencyKey(): Promise<null> {
    return Promise.resolve(null);
  }
}

/**
 * Hooks for a describe block: before each test, the runtime of agent@acme.example with calendar read and
 * write granted, in a fresh directory named after `prefix`; after it, its audit log closed and the directory
 * removed. Read the runtime's parts inside tests (they are set by `beforeEach`).
 */
export function calendarWriterPerTest(prefix: string): TestRuntime {
  let directory: string | undefined;
  let runtime: TestRuntime | undefined;
  const current = (): TestRuntime => runtime ?? assert.fail('the calendar runtime is used outside a test');
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), `${prefix}-`));
    const config = clientConfig({ mailbox: 'agent@acme.example', permissions: { 'calendar.read': true, 'calendar.write': true } });
    runtime = await openTestRuntime(directory, config);
  });
  afterEach(async () => {
    await current().audit.close();
    runtime = undefined;
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });
  return {
    get context() {
      return current().context;
    },
    get audit() {
      return current().audit;
    },
    get state() {
      return current().state;
    },
    get paused() {
      return current().paused;
    },
    get registry() {
      return current().registry;
    },
  };
}

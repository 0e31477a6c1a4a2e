import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

interface EngineEvent {
  Action?: unknown;
  Actor?: { ID?: unknown; Attributes?: { name?: unknown } | null } | null;
}

/**
 * True once `chunk` (with what came before it) holds the `die` event of the container `name`: the engine
 * streams one JSON object per line. Its `container` filter matches names by prefix (`fleet-acme` also
 * matches `fleet-acme-corp` and `fleet-acme-helper-…`), so each event's own container is checked.
 */
function dieEventReader(name: string): (chunk: Buffer) => boolean {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    return lines.some((line) => {
      try {
        const event = JSON.parse(line) as EngineEvent;
        return event.Action === 'die' && (event.Actor?.Attributes?.name === name || event.Actor?.ID === name);
      } catch {
        return false;
      }
    });
  };
}

/**
 * SIGKILLs the container and returns once the engine reports its process gone: its `die` event, or the
 * kill call's answer, whichever comes first. The Engine (20.10 here) answers a SIGKILL, and any other
 * call on that container, only once it has also torn down the container's network and mounts, ~60 ms
 * after the process has been reaped; `die` is sent after the reaping and before that teardown. The kill's
 * answer stays the fallback should the event stream fail, and its refusal (409: not running; 404) is
 * this call's.
 */
export async function killContainer(docker: Docker, name: string): Promise<void> {
  const abort = new AbortController();
  try {
    // Subscribed before the SIGKILL, so the event cannot pass unseen; an engine that refuses the
    // subscription still gets the SIGKILL, and its answer decides.
    const events = await (docker.getEvents({ filters: { container: [name], event: ['die'] }, abortSignal: abort.signal }) as Promise<Readable>).catch(() => null);
    const died = events === null ? new Promise<never>(() => undefined) : dieOf(events, name);
    // Not aborted once `died` wins: the engine finishes its teardown and answers; the answer is not needed.
    const killed = docker.getContainer(name).kill({ signal: 'SIGKILL' }) as Promise<unknown>;
    await Promise.race([died, killed]);
  } finally {
    abort.abort();
  }
}

/** Resolves at the first `die` event of `name` on `events`; never, should the stream break first. */
function dieOf(events: Readable, name: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const holdsDie = dieEventReader(name);
    events.on('data', (chunk: Buffer) => {
      if (holdsDie(chunk)) resolve();
    });
    events.on('error', () => undefined);
  });
}

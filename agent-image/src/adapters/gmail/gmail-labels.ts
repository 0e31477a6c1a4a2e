import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { requireString, type GmailApi } from './gmail-api.ts';

/**
 * Label ids by name, looked up once and created when missing. Only user labels: a system label's name
 * (TRASH, SPAM, INBOX, UNREAD, ...) is refused, since adding one deletes, hides or moves the message
 * rather than labelling it; those changes have their own port methods and gate rules.
 */
export class GmailLabels {
  readonly #api: GmailApi;
  readonly #ids = new Map<string, string>();
  readonly #system = new Set<string>();
  readonly #lookups = new Map<string, Promise<string>>();

  constructor(api: GmailApi) {
    this.#api = api;
  }

  /** Concurrent callers asking for the same new label share one lookup, so it is created once. */
  idOf(name: string): Promise<string> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 225) return Promise.reject(new FleetError('invalid_input', 'label name must be 1-225 characters'));
    const key = trimmed.toLowerCase();
    if (this.#system.has(key)) return Promise.reject(systemLabel());
    const cached = this.#ids.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let lookup = this.#lookups.get(key);
    if (lookup === undefined) {
      lookup = this.#findOrCreate(trimmed).finally(() => this.#lookups.delete(key));
      this.#lookups.set(key, lookup);
    }
    return lookup;
  }

  async #findOrCreate(trimmed: string): Promise<string> {
    const { gmail, call } = this.#api;
    const list = await call('labels.list', () => gmail.users.labels.list({ userId: 'me' }));
    for (const label of list.data.labels ?? []) {
      if (typeof label.id !== 'string' || typeof label.name !== 'string') continue;
      // Gmail matches names case-insensitively; a label whose type is not "user" is the mailbox's own.
      if (label.type === 'user') this.#ids.set(label.name.toLowerCase(), label.id);
      else for (const name of [label.name, label.id]) this.#system.add(name.toLowerCase());
    }
    if (this.#system.has(trimmed.toLowerCase())) throw systemLabel();
    const existing = this.#ids.get(trimmed.toLowerCase());
    if (existing !== undefined) return existing;
    const created = await call('labels.create', () =>
      gmail.users.labels.create({
        userId: 'me',
        requestBody: { name: trimmed, labelListVisibility: 'labelShow', messageListVisibility: 'show' },
      }),
    );
    const id = requireString(created.data.id, 'label id');
    this.#ids.set(trimmed.toLowerCase(), id);
    return id;
  }
}

function systemLabel(): FleetError {
  return new FleetError('invalid_input', 'a system label (trash, spam, inbox, unread, ...) is not a label the agent adds');
}

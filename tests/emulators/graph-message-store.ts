import { randomId } from './http-emulator.ts';
import type { StoredMessage } from './graph-message-types.ts';

/**
 * The mailbox's messages keyed by immutable id. Graph gives every message two ids: the immutable one
 * (`Prefer: IdType="ImmutableId"`), which lasts while the message stays in the mailbox, and the default
 * REST id, which changes whenever the message moves to another folder. A request may name a message by
 * either; what it gets back follows its own Prefer header (renderedId).
 */
export class GraphMessageStore extends Map<string, StoredMessage> {
  override get(id: string): StoredMessage | undefined {
    const byImmutableId = super.get(id);
    if (byImmutableId !== undefined) return byImmutableId;
    for (const message of this.values()) if (message.restId === id) return message;
    return undefined;
  }

  override has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  override delete(id: string): boolean {
    const message = this.get(id);
    return message === undefined ? false : super.delete(message.id);
  }
}

/** A new default (REST) id: Graph's changes on every move, whoever moves the message. */
export function newRestId(): string {
  return `AAMk${randomId()}`;
}

/** Whether a request asked for immutable ids: the preference applies to that request only. */
export function wantsImmutableIds(prefer: string): boolean {
  return /IdType="?ImmutableId"?/i.test(prefer);
}

/** The id of `message` as a request with this Prefer header sees it. */
export function renderedId(message: Pick<StoredMessage, 'id' | 'restId'>, prefer: string): string {
  return wantsImmutableIds(prefer) ? message.id : message.restId;
}

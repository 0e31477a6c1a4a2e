import express from 'express';

/**
 * Keys that reach an object's prototype when a parsed body is later merged, spread or assigned by path.
 * No field of the control API is named so; a body holding one, at any depth, is refused whole.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A JSON body holding a key of PROTOTYPE_KEYS; the body parser answers it as an unreadable body (400). */
export class PrototypeKeyInBody extends SyntaxError {
  constructor(key: string) {
    super(`request body must not hold the key ${JSON.stringify(key)}`);
    this.name = 'PrototypeKeyInBody';
  }
}

function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (PROTOTYPE_KEYS.has(key)) throw new PrototypeKeyInBody(key);
  return value;
}

/** express's JSON body parser with a size limit, refusing prototype keys (see PROTOTYPE_KEYS). */
export function jsonBodyParser(limit: string): express.RequestHandler {
  return express.json({ limit, reviver: refusePrototypeKeys });
}

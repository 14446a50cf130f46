/**
 * Envelope events without a runtime `Event` behind them, for a hub's own
 * path from `publish` (or a connection's relay) to its routes. A runtime
 * event is a native object in some engines: Bun's `CustomEvent` costs about
 * a microsecond per event with its collection, more than the rest of the
 * hub's work per publish. Where the event leaves the hub's own code (local
 * listeners, an `upstream`), it becomes a real `CustomEvent` first
 * ({@linkcode realEvent}). Not exported from the package.
 *
 * @module
 */

import type { EnvelopeEvent, EventEnvelope } from "./types.ts";

/**
 * Marks a `dispatchEvent` implementation that takes lite events
 * (`HubEventTarget`'s): `createPubSub` then publishes them to it.
 */
export const LITE_EVENTS: unique symbol = Symbol("liteEvents");

/** An envelope event as a plain object: what the hub's routing reads of an event. */
class LiteEvent {
  readonly type: string;
  readonly detail: EventEnvelope;
  defaultPrevented = false;

  constructor(type: string, detail: EventEnvelope) {
    this.type = type;
    this.detail = detail;
  }
}

/** A lite event for `topic`: only for a target whose `dispatchEvent` takes them (see {@linkcode LITE_EVENTS}). */
export function liteEvent(topic: string, detail: EventEnvelope): EnvelopeEvent {
  return new LiteEvent(topic, detail) as unknown as EnvelopeEvent;
}

/** Whether `dispatchEvent` of `target` takes lite events. */
export function takesLiteEvents(target: { dispatchEvent: unknown }): boolean {
  return (target.dispatchEvent as { [LITE_EVENTS]?: boolean } | undefined)?.[LITE_EVENTS] === true;
}

/** Whether `event` is a lite event: its envelope was built for its topic by `createPubSub` or the router. */
export function isLiteEvent(event: EnvelopeEvent): boolean {
  return (event as unknown) instanceof LiteEvent;
}

/** `event` itself, or for a lite event a `CustomEvent` with its type and detail. */
export function realEvent(event: EnvelopeEvent): EnvelopeEvent {
  if (!isLiteEvent(event)) return event;
  return new CustomEvent(event.type, { detail: event.detail }) as EnvelopeEvent;
}

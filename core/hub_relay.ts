/**
 * The relay records of `HubRouter`, by which the sender of a relayed event is
 * never sent its own event back through the upstream:
 *
 * - a {@linkcode Relay} while the event is being dispatched to the upstream:
 *   a synchronous upstream (in-process) hands it back before the dispatch
 *   returns, and the router's listener takes the sender from it;
 * - an {@linkcode Echo} per event of a subscribed sender that did not come
 *   back at once: an asynchronous upstream (Redis) sends it back later, and
 *   {@linkcode takeEcho} finds its sender by the frame.
 *
 * Internal to core (not re-exported). Generic over the connection type `P`,
 * so it knows nothing of the routing table.
 *
 * @module
 */

import type { EnvelopeEvent } from "./types.ts";

/** How long a relayed event's echo is awaited from an asynchronous upstream, in ms. */
const ECHO_TIMEOUT = 30_000;
/** The most echoes awaited per topic. */
const MAX_ECHOES_PER_TOPIC = 4096;

/**
 * The event the router is dispatching to its upstream right now, with its
 * sender (`undefined` for the hub's own event) and the frame to pass on.
 *
 * @internal
 */
export interface Relay<P, F> {
  event: EnvelopeEvent;
  frame: F | undefined;
  from: P | undefined;
  /** Set by the upstream listener once the event came back during the dispatch. */
  seen: boolean;
}

/**
 * A relayed event of a subscribed sender awaited back from an asynchronous
 * upstream: its canonical frame, its sender, and when it was sent.
 *
 * @internal
 */
export interface Echo<P, F> {
  frame: F;
  from: P;
  at: number;
}

/**
 * Where a topic's echoes are kept (the router's route): `undefined` while
 * none is awaited, as most of the time.
 *
 * @internal
 */
export interface EchoHolder<P, F> {
  echoes: Echo<P, F>[] | undefined;
}

/**
 * Remembers that `from` sent the event encoded as `frame`, so it is skipped
 * when the event comes back; the oldest echo goes past
 * `MAX_ECHOES_PER_TOPIC` (4096).
 *
 * @internal
 */
export function rememberEcho<P, F>(holder: EchoHolder<P, F>, frame: F, from: P): void {
  const echoes = holder.echoes ??= [];
  if (echoes.length >= MAX_ECHOES_PER_TOPIC) echoes.shift();
  echoes.push({ frame, from, at: Date.now() });
}

/**
 * The sender of an event come back as `frame`, if it is an echo awaited (and
 * no longer awaited); echoes older than `ECHO_TIMEOUT` (30 s) are dropped.
 * Call it only while `holder.echoes` is set.
 *
 * @internal
 */
export function takeEcho<P, F>(holder: EchoHolder<P, F>, frame: F): P | undefined {
  const echoes = holder.echoes!;
  const oldest = Date.now() - ECHO_TIMEOUT;
  while (echoes.length > 0 && echoes[0].at < oldest) echoes.shift();
  // The upstream keeps each publisher's order, so this hub's own events come back oldest first; but the first
  // match is looked for past the head: an echo the upstream lost (Redis pub/sub is at most once) would otherwise
  // block every later match, and send the sender its own events, until it expires. Identical frames are
  // indistinguishable, so matching a foreign copy instead changes no one's count.
  let match: P | undefined;
  const index = echoes.findIndex((echo) => sameFrame(echo.frame, frame));
  if (index !== -1) match = echoes.splice(index, 1)[0].from;
  if (echoes.length === 0) holder.echoes = undefined;
  return match;
}

/**
 * Forgets the echoes awaited for `from` (it left the topic: its events may
 * come back to it no more).
 *
 * @internal
 */
export function forgetEchoes<P, F>(holder: EchoHolder<P, F>, from: P): void {
  if (holder.echoes === undefined) return;
  holder.echoes = holder.echoes.filter((echo) => echo.from !== from);
  if (holder.echoes.length === 0) holder.echoes = undefined;
}

function sameFrame(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

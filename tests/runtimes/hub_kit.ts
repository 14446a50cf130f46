/**
 * What the shared hub test bodies (hub.ts) use: library spokes whose sockets count every frame, and questions asked
 * of a hub process (runtime_hub.ts).
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub, type PubSubError } from "../../mod.ts";
import {
  connectWebSocketEventTarget,
  type WebSocketSpoke,
  type WebSocketSpokeOptions,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type CountingWebSocket, countingWebSocket } from "../websocket/helpers.ts";
import type { HubEvent, RuntimeHub } from "./runtime_hub.ts";

/** The event map of every shared hub test. */
export type Events = {
  a: number;
  b: number;
  c: number;
  n: number;
  x: number | string;
  sync: string;
  many: number;
  churn: number;
};

/** A library spoke whose socket counts what it sends and receives. */
export interface Spoke {
  name: string;
  wire: CountingWebSocket;
  target: WebSocketSpoke;
  pubsub: PubSub<Events>;
  /** What the spoke's `onError` was given. */
  errors: PubSubError[];
}

/** A spoke on `url` (or on the first of `url` that answers, in turn). */
export function spokeOn(
  url: string | string[],
  name: string,
  options: Pick<WebSocketSpokeOptions, "credentials" | "backoff"> = {},
): Spoke {
  const wire = countingWebSocket();
  const errors: PubSubError[] = [];
  const target = connectWebSocketEventTarget(url, {
    WebSocket: wire.WebSocket,
    onError: (error) => errors.push(error),
    ...options,
  });
  return { name, wire, target, errors, pubsub: createPubSub<Events>({ eventTarget: target }) };
}

/** Closes the spokes, then the hubs. */
export async function closeAll(spokes: Spoke[], ...hubs: RuntimeHub[]): Promise<void> {
  for (const spoke of spokes) {
    spoke.pubsub.close();
    spoke.target.close();
  }
  await Promise.all(spokes.map((spoke) => spoke.target.closed));
  await Promise.all(hubs.map((hub) => hub.close()));
}

/** Asserts that `sub` yields `values`, in order. */
export async function expect(sub: AsyncIterator<unknown>, values: unknown[], who: string): Promise<void> {
  for (const value of values) {
    assert.deepEqual(await nextWithin(sub, 10_000), { value, done: false }, `${who} expected ${value}`);
  }
}

/** `n` numbers from `from`. */
export const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/**
 * The hub publishes a marker on each spoke's sync topic and waits for it: frames to one socket keep their order, so
 * everything the hub sent the spoke before is in by then.
 */
export async function barrier(hub: RuntimeHub, spokes: Spoke[], marks: Map<Spoke, AsyncIterator<string>>, tag: string) {
  for (const spoke of spokes) await hub.command("publish", { type: "sync", id: spoke.name, payload: tag });
  for (const spoke of spokes) await expect(marks.get(spoke)!, [tag], spoke.name);
}

/** Polls the hub's `stats()` until `predicate` holds; returns them. */
export async function statsWhen(
  hub: RuntimeHub,
  predicate: (stats: Record<string, number>) => boolean,
  what: string,
  ms = 10_000,
): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { stats } = await hub.stats();
    if (predicate(stats)) return stats;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The payloads the hub's own listener (the `listen` command) got on `topic`, in order. */
export function heardAtHub(hub: RuntimeHub, topic: string): unknown[] {
  return hub.events.filter((e) => e.event === "local" && `${e.type}:${e.id}` === topic).map((e) => e.payload);
}

/** The errors the hub reported to `onError`. */
export function errorsAtHub(hub: RuntimeHub): HubEvent[] {
  return hub.events.filter((e) => e.event === "error");
}

/** Events per publisher in the shared tests' smaller runs. */
export const N = 50;

/** A subscription to end when a test is done. */
export type Ending = { return(): Promise<unknown> };

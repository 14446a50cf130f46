/**
 * The legitimate spoke of the abuse tests (tests/websocket/abuse_test.ts, tests/iroh/hub_abuse_test.ts): it publishes
 * sequence-numbered `up` events at 100/s and checks that the hub's `down` events arrive with no gap, while an attacker
 * works on the same hub.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub } from "../mod.ts";
import type { Child } from "./child.ts";

/**
 * The events the abuse hubs and their legitimate spokes exchange; `bulk` is 100-byte filler a hub may publish besides
 * (the WebSocket slow-reader attack), which no legitimate spoke subscribes to.
 */
export type LegitEvents = { down: { seq: number }; up: { from: string; seq: number }; bulk: string };

/** What a legitimate spoke runs over: a WebSocket or an iroh spoke. */
export interface LegitTarget extends EventTarget {
  readonly state: string;
  ready(topic: string): Promise<void>;
  close(): unknown;
  readonly closed: Promise<unknown>;
}

/** The abuse hub's answer to `report`: the `up` tally per spoke, how many `down` events it sent, its peak RSS. */
export interface HubReport {
  tally: Record<string, { count: number; gaps: number }>;
  sent: number;
  peak: number;
}

/** A legitimate spoke: publishes `up` events at 100/s and checks the hub's `down` events arrive with no gap. */
export class Legit {
  readonly pubsub: PubSub<LegitEvents>;
  readonly disconnects: unknown[] = [];
  sent = 0;
  received = 0;
  gaps = 0;
  #last = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reader: Promise<void>;

  constructor(readonly name: string, readonly spoke: LegitTarget) {
    spoke.addEventListener("disconnect", (event) => this.disconnects.push((event as CustomEvent).detail));
    this.pubsub = createPubSub<LegitEvents>({ eventTarget: spoke });
    const down = this.pubsub.subscribe("down", "1", { bufferSize: 1_000_000 });
    this.#reader = (async () => {
      for await (const { seq } of down) {
        if (this.#last !== -1 && seq !== this.#last + 1) this.gaps++;
        this.#last = seq;
        this.received++;
      }
    })();
  }

  async start(): Promise<void> {
    await this.pubsub.ready("down", "1");
    this.#timer = setInterval(() => {
      for (let i = 0; i < 5; i++) this.pubsub.publish("up", "1", { from: this.name, seq: this.sent++ });
    }, 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async close(): Promise<void> {
    this.stop();
    this.pubsub.close();
    await this.spoke.close();
    await this.spoke.closed;
    await this.#reader;
  }
}

/** Legitimate events lost, both ways: gaps and missing events at either end. */
export function legitLost(legit: Legit[], { tally }: HubReport): number {
  return legit.reduce((n, l) => n + l.gaps + tally[l.name].gaps + (l.sent - tally[l.name].count), 0);
}

/** Asserts that the legitimate spokes were never dropped and lost nothing, either way. */
export function assertLegitIntact(legit: Legit[], { tally, sent }: HubReport): void {
  for (const l of legit) {
    assert.deepEqual(l.disconnects, [], `${l.name} was disconnected`);
    assert.equal(l.spoke.state, "open");
    assert.equal(l.gaps, 0, `${l.name} missed down events`);
    assert.ok(l.received >= 150, `${l.name} received only ${l.received} down events`);
    assert.ok(sent - l.received <= 25, `${l.name} received ${l.received} of ${sent} down events`);
    assert.equal(tally[l.name].gaps, 0, `the hub missed up events from ${l.name}`);
    assert.equal(tally[l.name].count, l.sent, `the hub got ${tally[l.name].count} of ${l.sent} up events`);
  }
}

/**
 * The end of an attack: waits (at most `ms`) until `closes()` lists `count` closed attacker connections, lets the
 * attack and the legitimate traffic go on for `after` ms, stops the legitimate traffic, lets in-flight events land,
 * and returns the hub's report once each spoke has the hub's down events up to the report's last 25 (at most 5 s
 * later).
 */
export async function endAttack(
  hub: Child,
  legit: Legit[],
  closes: () => unknown[],
  { count, ms, after }: { count: number; ms: number; after: number },
): Promise<HubReport> {
  const deadline = Date.now() + ms;
  while (closes().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, after)); // the attacker goes on writing; legitimate traffic goes on
  for (const l of legit) l.stop();
  await new Promise((r) => setTimeout(r, 500)); // let in-flight events land
  await hub.send("report");
  const report = await hub.next((l) => "tally" in l, 10_000, "hub report (is the hub alive?)") as unknown as HubReport;
  // The hub publishes on until it stops: on a loaded machine its last down events may still be on their way.
  const settled = Date.now() + 5_000;
  while (legit.some((l) => report.sent - l.received > 25) && Date.now() < settled) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return report;
}

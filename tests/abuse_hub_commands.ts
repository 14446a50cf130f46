/**
 * The shared half of the abuse-test hub processes (tests/websocket/fixtures/abuse_hub.ts,
 * tests/iroh/fixtures/abuse_hub.ts): the legitimate traffic and the stdin commands.
 *
 * Legitimate traffic: the hub publishes `down` events `{ seq }` at 100/s (5 every 50 ms; none with `quiet`) and checks
 * that the `up` events from each legitimate spoke (`{ from, seq }`) arrive with no gap.
 *
 * stdout, one JSON object a line: `{ "connections" }` on `count`; `{ "mark": rss }` on `mark`, which also restarts
 * the peak; on `report` the up-event tally per spoke and the peak RSS since the mark (`process.memoryUsage().rss`,
 * sampled every 10 ms). `stop` on stdin shuts the hub down and exits.
 *
 * Written against `node:process` and `node:readline` so the fixtures run under Deno and under Bun.
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { createPubSub, type EnvelopeEvent, type PubSub, type TypedEventTarget } from "../mod.ts";
import type { LegitEvents } from "./legit_spoke.ts";

/** Prints one JSON line. */
export function write(value: unknown): void {
  console.log(JSON.stringify(value));
}

/** What the fixture supplies. */
export interface AbuseHub {
  /** The hub. */
  target: TypedEventTarget<EnvelopeEvent>;
  /** Publish no `down` events. */
  quiet: boolean;
  /** Runs every 50 ms after the `down` events, on the hub's pub/sub (say, to publish bulk traffic). */
  tick?: (pubsub: PubSub<LegitEvents>) => void;
  /** The connections, for `count`. */
  connections(): number;
  /** Closes the hub and its server, for `stop`. */
  shutdown(): Promise<void>;
}

/** Runs the legitimate traffic and answers the test's commands until `stop`. */
export async function runAbuseHub({ target, quiet, tick, connections, shutdown }: AbuseHub): Promise<void> {
  const pubsub = createPubSub<LegitEvents>({ eventTarget: target });
  const tally = new Map<string, { count: number; gaps: number; last: number }>();
  (async () => {
    for await (const { from, seq } of pubsub.subscribe("up", "1", { bufferSize: 1_000_000 })) {
      const t = tally.get(from) ?? { count: 0, gaps: 0, last: -1 };
      if (t.last !== -1 && seq !== t.last + 1) t.gaps++;
      t.last = seq;
      t.count++;
      tally.set(from, t);
    }
  })();

  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  let seq = 0;
  const timer = quiet ? undefined : setInterval(() => {
    for (let i = 0; i < 5; i++) pubsub.publish("down", "1", { seq: seq++ });
    tick?.(pubsub);
  }, 50);

  for await (const command of createInterface({ input: process.stdin })) {
    if (command === "report") {
      const rss = process.memoryUsage().rss;
      write({ tally: Object.fromEntries(tally), sent: seq, peak: Math.max(peak, rss), rss });
    } else if (command === "count") write({ connections: connections() });
    else if (command === "mark") write({ mark: peak = process.memoryUsage().rss });
    else if (command === "stop") {
      clearInterval(timer);
      clearInterval(sampler);
      pubsub.close();
      await shutdown();
      process.exit(0);
    }
  }
}

/**
 * The shared half of the abuse-test hub processes (tests/websocket/fixtures/abuse_hub.ts,
 * tests/iroh/fixtures/abuse_hub.ts): the legitimate traffic and the stdin commands.
 *
 * Legitimate traffic: the hub publishes `down` events `{ seq }` at 100/s (5 every 50 ms; none with `quiet`) and checks
 * that the `up` events from each legitimate spoke (`{ from, seq }`) arrive with no gap.
 *
 * stdout, one JSON object a line: `{ "connections" }` on `count`; `{ "mark": rss }` on `mark`, which also restarts
 * the peak; on `report` the up-event tally per spoke and the peak RSS since the mark (`Deno.memoryUsage().rss`, sampled
 * every 10 ms). `stop` on stdin shuts the hub down and exits.
 */

import { createPubSub, type EnvelopeEvent, type TypedEventTarget } from "../mod.ts";
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
  /** Runs every 50 ms besides the `down` events (say, bulk traffic). */
  tick?: () => void;
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
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 10);
  let seq = 0;
  const timer = quiet ? undefined : setInterval(() => {
    for (let i = 0; i < 5; i++) pubsub.publish("down", "1", { seq: seq++ });
    tick?.();
  }, 50);

  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const command = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (command === "report") {
        const rss = Deno.memoryUsage().rss;
        write({ tally: Object.fromEntries(tally), sent: seq, peak: Math.max(peak, rss), rss });
      } else if (command === "count") write({ connections: connections() });
      else if (command === "mark") write({ mark: peak = Deno.memoryUsage().rss });
      else if (command === "stop") {
        clearInterval(timer);
        clearInterval(sampler);
        pubsub.close();
        await shutdown();
        Deno.exit(0);
      }
    }
  }
}

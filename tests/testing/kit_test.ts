/**
 * The conformance kit itself: what it registers, what it prints for a
 * declared missing capability, that it finds Deno.test, and that it fails an
 * adapter that breaks the contract (one that loses events in a burst, one
 * that delivers its own publishes twice).
 */

import assert from "node:assert/strict";
import { type EnvelopeEvent, TransportEventTarget } from "../../mod.ts";
import { createInProcessEventTarget } from "../../adapters/in_process/mod.ts";
import { conformance, type ConformancePair, detectTestRegistrar, type TestRegistrar } from "../../testing/mod.ts";

interface Registered {
  name: string;
  options: { ignore?: boolean; skip?: boolean | string };
  fn: () => Promise<void>;
}

function collect(): { test: TestRegistrar; registered: Registered[] } {
  const registered: Registered[] = [];
  return { registered, test: (name, options, fn) => registered.push({ name, options, fn }) };
}

const inProcess = (): ConformancePair => {
  const target = createInProcessEventTarget({ onListenerError: () => {} });
  return { a: target, b: target, listenerCount: (_, topic) => target.listenerCount(topic), close: () => {} };
};

Deno.test("kit: finds Deno.test by itself", () => {
  assert.equal(detectTestRegistrar(), Deno.test);
});

Deno.test("kit: one test per rule; a missing capability skips its cases, printed with the reason", () => {
  const { test, registered } = collect();
  const lines: string[] = [];
  conformance("x", inProcess, { test, log: (line) => lines.push(line), unordered: "a test reason", burst: 50 });
  assert.equal(registered.length, 10);
  const skipped = registered.filter((r) => r.options.ignore === true);
  assert.deepEqual(skipped.map((r) => r.name), [
    "x: conformance: keeps per-publisher order (skipped: unordered: a test reason)",
    "x: conformance: the remote side bursts 50 events; a counting consumer gets all 50 in order (skipped: unordered: a test reason)",
    "x: conformance: validates payloads with schemas once per event, drops invalid ones and keeps order (skipped: unordered: a test reason)",
  ]);
  for (const r of skipped) assert.equal(r.options.skip, "unordered: a test reason");
  assert.deepEqual(lines, [
    '[@alkdev/pubsub/testing] x: skipping "keeps per-publisher order" (unordered: a test reason)',
    '[@alkdev/pubsub/testing] x: skipping "the remote side bursts 50 events; a counting consumer gets all 50 in order" (unordered: a test reason)',
    '[@alkdev/pubsub/testing] x: skipping "validates payloads with schemas once per event, drops invalid ones and keeps order" (unordered: a test reason)',
  ]);
});

Deno.test("kit: skip skips everything with one printed line; a pair without listenerCount is reported", async () => {
  const skipped = collect();
  const lines: string[] = [];
  conformance("y", inProcess, { test: skipped.test, log: (line) => lines.push(line), skip: "no addon here" });
  assert.ok(skipped.registered.every((r) => r.options.ignore === true));
  assert.deepEqual(lines, ["[@alkdev/pubsub/testing] y: skipping the whole suite (skip: no addon here)"]);

  const bare = collect();
  lines.length = 0;
  conformance("z", () => ({ ...inProcess(), listenerCount: undefined }), {
    test: bare.test,
    log: (line) => lines.push(line),
  });
  for (const r of bare.registered) await r.fn();
  assert.deepEqual(lines, ["[@alkdev/pubsub/testing] z: listener counts not checked (the pair has no listenerCount)"]);
});

/** A loopback transport that breaks the contract in a chosen way. */
class Faulty extends TransportEventTarget {
  #sent = 0;
  constructor(readonly fault: "drop-in-burst" | "echo-twice") {
    super({ onListenerError: () => {} });
  }
  dispatchEvent(event: EnvelopeEvent): boolean {
    this.#sent++;
    if (this.fault === "drop-in-burst" && this.#sent === 5000) return true; // lost
    this.dispatchLocal(event);
    if (this.fault === "echo-twice" && event.type === "seq:self") this.dispatchLocal(event);
    return true;
  }
}

function faultyPair(fault: Faulty["fault"]): () => ConformancePair {
  return () => {
    const target = new Faulty(fault);
    return { a: target, b: target, listenerCount: (_, topic) => target.listenerCount(topic), close: () => {} };
  };
}

Deno.test("kit: fails an adapter that loses one event of a burst", async () => {
  const { test, registered } = collect();
  conformance("lossy", faultyPair("drop-in-burst"), { test, timeout: 200 });
  const burst = registered.find((r) => r.name.includes("bursts"))!;
  await assert.rejects(burst.fn(), /Event 4999 of the burst arrived as 5000/);
});

Deno.test("kit: fails an adapter that delivers its own publishes twice", async () => {
  const { test, registered } = collect();
  conformance("echo", faultyPair("echo-twice"), { test, timeout: 200 });
  const own = registered.find((r) => r.name.includes("own subscribers"))!;
  await assert.rejects(own.fn());
});

Deno.test("kit: docs/architecture/testing.md shows the example adapter test verbatim", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/architecture/testing.md", import.meta.url));
  const file = await Deno.readTextFile(new URL("./broadcast_adapter_test.ts", import.meta.url));
  const block = doc.split("## A complete example")[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  const body = file.split("\n").slice(2).join("\n").trim() + "\n";
  assert.equal(block, body);
});

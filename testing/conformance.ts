/**
 * `conformance`: the adapter contract as a test suite, registered with the
 * caller's test framework over a pair of connected event targets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSub } from "../core/create_pubsub.ts";
import { PubSubClosedError, type PubSubError } from "../core/errors.ts";
import { PayloadValidationError } from "../core/payload_validation.ts";
import type { StandardSchemaV1 } from "../core/standard_schema.ts";
import type { Subscription } from "../core/subscription.ts";
import { topicFor } from "../core/topic.ts";
import type { EnvelopeEvent, TypedEventTarget } from "../core/types.ts";
import { nextWithin } from "./next_within.ts";
import { detectTestRegistrar, type TestRegistrar } from "./runner.ts";

/**
 * Two connected event targets, fresh for each case: what `a` publishes
 * reaches `b`'s subscribers, and back. `a` and `b` may be one object (an
 * in-process target).
 *
 * @example
 * ```ts
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 * import type { ConformancePair } from "@alkdev/pubsub/testing";
 *
 * const target = createInProcessEventTarget();
 * const pair: ConformancePair = {
 *   a: target,
 *   b: target,
 *   listenerCount: (t, topic) => target.listenerCount(topic),
 *   close: () => {},
 * };
 * ```
 */
export interface ConformancePair {
  /** The first side (the publisher in one-way cases). */
  a: TypedEventTarget<EnvelopeEvent>;
  /** The second side (the subscriber in one-way cases). */
  b: TypedEventTarget<EnvelopeEvent>;
  /**
   * Counts the listeners a target holds for a topic (all topics when
   * omitted). Without it, the listener-count checks are skipped, and the
   * suite prints that it skipped them.
   */
  listenerCount?: (target: TypedEventTarget<EnvelopeEvent>, topic?: string) => number;
  /** Releases the transport (sockets, clients, workers); awaited after each case. */
  close(): Promise<void> | void;
}

/**
 * A capability a transport may lack: `true`, or better the reason as a
 * string. The cases that need it are skipped, and the skip is printed with
 * the reason and reported as a skipped test.
 *
 * @example
 * ```ts
 * import type { MissingCapability } from "@alkdev/pubsub/testing";
 *
 * const noBurst: MissingCapability = "the broker drops past 1000 queued messages";
 * ```
 */
export type MissingCapability = true | string;

/**
 * Options for {@linkcode conformance}. The `no*` and `unordered` options name
 * what a transport cannot do; each one skips the cases that need it, and
 * every skip is printed.
 *
 * @example
 * ```ts
 * import type { ConformanceOptions } from "@alkdev/pubsub/testing";
 *
 * const options: ConformanceOptions = { timeout: 10_000, noLocalDelivery: "a UDP multicast loopback is off" };
 * ```
 */
export interface ConformanceOptions {
  /**
   * Registers one test: `Deno.test`, or `test` from `node:test`.
   *
   * @default {the one found by detectTestRegistrar()}
   */
  test?: TestRegistrar;
  /**
   * How long one expected event may take, in ms.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * How many events the burst case publishes at once.
   *
   * @default {10000}
   */
  burst?: number;
  /** Skips the whole suite (say why: the addon is missing, for example). Printed. */
  skip?: MissingCapability;
  /**
   * The transport does not deliver a publish to the publisher's own
   * subscribers. Skips "delivers to the publisher's own subscribers exactly
   * once" and checks only remote delivery in "delivers in both directions".
   */
  noLocalDelivery?: MissingCapability;
  /** The transport does not keep per-publisher order. Skips the order and burst cases. */
  unordered?: MissingCapability;
  /** The transport loses events in a burst of `burst` events. Skips the burst case. */
  noBurst?: MissingCapability;
  /**
   * Where skips are printed.
   *
   * @default {console.log}
   */
  log?: (line: string) => void;
}

/** The capability options, by the name printed with a skip. */
type Capability = "noLocalDelivery" | "unordered" | "noBurst";

interface Case {
  name: string | ((burst: number) => string);
  /** Skipped when any of these is set. */
  needs?: Capability[];
  run(context: Context): Promise<void>;
}

interface Context {
  pair: ConformancePair;
  a: PubSub<Events>;
  b: PubSub<Events>;
  ms: number;
  burst: number;
  local: boolean;
}

type Events = {
  greet: string;
  "a:b": string;
  a: string;
  other: string;
  payload: unknown;
  seq: number;
};

async function expectValues<T>(sub: Subscription<T>, expected: T[], ms: number): Promise<void> {
  const got: T[] = [];
  for (let i = 0; i < expected.length; i++) {
    const result = await nextWithin(sub, ms);
    assert.equal(result.done, false, `Subscription ended after ${got.length} values`);
    got.push(result.value as T);
  }
  assert.deepEqual(got, expected);
}

const cases: Case[] = [
  {
    name: "delivers in both directions",
    async run({ a, b, ms, local }) {
      const atB = b.subscribe("greet", "1");
      const atA = a.subscribe("greet", "1");
      await Promise.all([a.ready("greet", "1"), b.ready("greet", "1")]);
      a.publish("greet", "1", "from a");
      await expectValues(atB, ["from a"], ms);
      b.publish("greet", "1", "from b");
      // a's own publish reached a's subscriber too (local delivery is part of the contract).
      await expectValues(atA, local ? ["from a", "from b"] : ["from b"], ms);
    },
  },
  {
    name: "delivers to the publisher's own subscribers exactly once",
    needs: ["noLocalDelivery"],
    async run({ a, b, ms }) {
      const own = a.subscribe("seq", "self");
      const remote = b.subscribe("seq", "self");
      await Promise.all([a.ready("seq", "self"), b.ready("seq", "self")]);
      a.publish("seq", "self", 1);
      a.publish("seq", "self", 2);
      await expectValues(remote, [1, 2], ms);
      b.publish("seq", "self", 3); // a sentinel that follows 1 and 2 on the wire
      await expectValues(own, [1, 2, 3], ms);
    },
  },
  {
    name: "isolates types and ids, including the colon collision",
    async run({ a, b, ms }) {
      assert.notEqual(topicFor("a:b", "c"), topicFor("a", "b:c"));
      const keys = [["a:b", "c"], ["a", "b:c"], ["greet", "1"], ["greet", "2"], ["other", "1"]] as const;
      const subs = keys.map(([type, id]) => b.subscribe(type, id));
      await Promise.all(keys.map(([type, id]) => b.ready(type, id)));
      for (const [type, id] of keys) a.publish(type, id, `${type}|${id}`);
      for (const [type, id] of keys) a.publish(type, id, "end");
      for (let i = 0; i < keys.length; i++) {
        const [type, id] = keys[i];
        // Exactly its own event, then the sentinel: nothing from another topic in between.
        await expectValues(subs[i], [`${type}|${id}`, "end"], ms);
      }
    },
  },
  {
    name: "delivers payloads exactly as published",
    async run({ a, b, ms }) {
      const payloads: unknown[] = [null, undefined, 0, "", false, -1.5, "ünïcødé ✓", [1, null, "x"], {
        nested: { deep: [true, null] },
      }];
      const sub = b.subscribe("payload", "p");
      await b.ready("payload", "p");
      for (const p of payloads) a.publish("payload", "p", p);
      await expectValues(sub, payloads, ms);
    },
  },
  {
    name: "keeps per-publisher order",
    needs: ["unordered"],
    async run({ a, b, ms }) {
      const n = 1000;
      const sub = b.subscribe("seq", "order", { bufferSize: n });
      await b.ready("seq", "order");
      for (let i = 0; i < n; i++) a.publish("seq", "order", i);
      await expectValues(sub, Array.from({ length: n }, (_, i) => i), ms);
    },
  },
  {
    name: (burst) => `the remote side bursts ${burst} events; a counting consumer gets all ${burst} in order`,
    needs: ["unordered", "noBurst"],
    async run({ a, b, ms, burst }) {
      // The subscription can hold the whole burst, so any loss is the transport's.
      const sub = b.subscribe("seq", "burst", { bufferSize: burst });
      await b.ready("seq", "burst");
      for (let i = 0; i < burst; i++) a.publish("seq", "burst", i);
      let count = 0;
      while (count < burst) {
        const result = await nextWithin(sub, ms).catch((error) => {
          throw new Error(`Burst stalled after ${count} of ${burst} events`, { cause: error });
        });
        assert.equal(result.done, false, `Subscription ended after ${count} of ${burst} events`);
        if (result.value !== count) assert.fail(`Event ${count} of the burst arrived as ${result.value}`);
        count++;
      }
      await sub.return(undefined);
    },
  },
  {
    name: "removes listeners when subscriptions end",
    async run({ pair, a, b, ms }) {
      const topic = topicFor("greet", "cleanup");
      const before = pair.listenerCount?.(pair.b, topic);
      const controller = new AbortController();
      const byBreak = b.subscribe("greet", "cleanup");
      const byReturn = b.subscribe("greet", "cleanup");
      const byAbort = b.subscribe("greet", "cleanup", { signal: controller.signal });
      await b.ready("greet", "cleanup");
      if (pair.listenerCount) assert.equal(pair.listenerCount(pair.b, topic), (before ?? 0) + 3);
      a.publish("greet", "cleanup", "one");
      for await (const value of byBreak) {
        assert.equal(value, "one");
        break;
      }
      assert.deepEqual(await byReturn.return(undefined), { value: undefined, done: true });
      controller.abort();
      assert.deepEqual(await byAbort.next(), { value: undefined, done: true });
      if (pair.listenerCount) assert.equal(pair.listenerCount(pair.b, topic), before ?? 0);
      // The topic still works for a new subscriber, which sees only new events.
      const fresh = b.subscribe("greet", "cleanup");
      await b.ready("greet", "cleanup");
      a.publish("greet", "cleanup", "two");
      await expectValues(fresh, ["two"], ms);
      await fresh.return(undefined);
      if (pair.listenerCount) assert.equal(pair.listenerCount(pair.b, topic), before ?? 0);
    },
  },
  {
    name: "keeps delivering when a listener throws",
    async run({ pair, a, b, ms }) {
      const topic = topicFor("greet", "throw");
      let thrown = 0;
      const bad = (): void => {
        thrown++;
        throw new Error("Listener failure (expected by the test)");
      };
      pair.b.addEventListener(topic, bad);
      const sub = b.subscribe("greet", "throw");
      await b.ready("greet", "throw");
      a.publish("greet", "throw", "x");
      a.publish("greet", "throw", "y");
      await expectValues(sub, ["x", "y"], ms);
      assert.equal(thrown, 2);
      pair.b.removeEventListener(topic, bad);
    },
  },
  {
    name: "validates payloads with schemas once per event, drops invalid ones and keeps order",
    needs: ["unordered"],
    async run({ pair, a, ms }) {
      // A hand-written Standard Schema: a non-negative integer, answered asynchronously (after a varying delay)
      // for odd values, as a schema with an asynchronous refinement would.
      let calls = 0;
      const seq: StandardSchemaV1<number> = {
        "~standard": {
          version: 1,
          vendor: "conformance",
          validate(value) {
            calls++;
            const result = Number.isInteger(value) && (value as number) >= 0
              ? { value: value as number }
              : { issues: [{ message: "Expected a non-negative integer", path: [] }] };
            if (typeof value !== "number" || value % 2 === 0) return result;
            return new Promise((resolve) => setTimeout(() => resolve(result), (value * 7) % 5));
          },
        },
      };
      const errors: PubSubError[] = [];
      const checked = createPubSub({ eventTarget: pair.b, schemas: { seq }, onError: (e) => errors.push(e) });
      try {
        const first = checked.subscribe("seq", "schema");
        const second = checked.subscribe("seq", "schema");
        await checked.ready("seq", "schema");
        const valid = Array.from({ length: 20 }, (_, i) => i);
        for (const i of valid) {
          a.publish("seq", "schema", i);
          a.publish("seq", "schema", i % 2 === 0 ? -i - 1 : (`${i}` as unknown as number));
        }
        await expectValues(first, valid, ms);
        await expectValues(second, valid, ms);
        assert.equal(calls, 40, "validated once per event, not once per subscriber");
        assert.equal(errors.length, 20);
        for (const error of errors) {
          assert.ok(error instanceof PayloadValidationError, String(error));
          assert.equal(error.topic, topicFor("seq", "schema"));
        }
      } finally {
        checked.close();
      }
    },
  },
  {
    name: "close() ends subscriptions and refuses publishes",
    async run({ pair, a, b, ms, local }) {
      const subA = a.subscribe("greet", "close");
      const subB = b.subscribe("greet", "close");
      await Promise.all([a.ready("greet", "close"), b.ready("greet", "close")]);
      a.publish("greet", "close", "last");
      await expectValues(subB, ["last"], ms);
      if (local) await expectValues(subA, ["last"], ms);
      a.close();
      assert.equal(a.closed, true);
      assert.deepEqual(await nextWithin(subA, ms), { value: undefined, done: true });
      assert.throws(() => a.publish("greet", "close", "late"), PubSubClosedError);
      assert.throws(() => a.subscribe("greet", "close"), PubSubClosedError);
      a.close(); // idempotent
      if (pair.listenerCount) {
        // Only b's subscription is left where both sides share one target.
        assert.equal(pair.listenerCount(pair.a, topicFor("greet", "close")), pair.a === pair.b ? 1 : 0);
      }
      // b is unaffected by a's close.
      b.publish("greet", "close", "still");
      await expectValues(subB, ["still"], ms);
    },
  },
];

/**
 * Registers the adapter conformance suite: one test per rule, named
 * `<name>: conformance: <rule>`. Each test gets a fresh pair from `factory`,
 * wraps both sides in `createPubSub`, and closes all of it afterwards (under
 * Deno, the op and resource sanitizers stay on).
 *
 * The rules (see the package's `docs/architecture/testing.md`): delivery in
 * both directions and to the publisher's own subscribers, exactly once;
 * isolation by type and id; payloads exactly as published (`null`,
 * `undefined`, `0`, `""`, `false`, ...); per-publisher order; a burst of
 * `burst` events received whole and in order; no listener left after a
 * subscription ends; a throwing listener does not stop delivery; with
 * `schemas`, a payload arriving from the other side is validated once per
 * event (whatever the number of subscribers), an invalid one is dropped and
 * reported as a `PayloadValidationError`, and order is kept with an
 * asynchronous schema; `close()` ends subscriptions and refuses publishes.
 *
 * What a transport cannot do is declared with the capability options
 * (`noLocalDelivery`, `unordered`, `noBurst`); the cases that need it are
 * registered as skipped tests, and each skip is printed with its reason.
 *
 * @param name The adapter's name, the prefix of every test name.
 * @param factory Makes a fresh connected pair.
 * @param options The runner, timeouts and missing capabilities.
 * @throws {TypeError} If no test framework is found and none is passed.
 *
 * @example Under Deno (under Node, pass `{ test }` from `node:test`, or let it be found)
 * ```ts
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 * import { conformance } from "@alkdev/pubsub/testing";
 *
 * conformance("in-process", () => {
 *   const target = createInProcessEventTarget({ onListenerError: () => {} });
 *   return { a: target, b: target, listenerCount: (_, topic) => target.listenerCount(topic), close: () => {} };
 * });
 * ```
 */
export function conformance(
  name: string,
  factory: () => Promise<ConformancePair> | ConformancePair,
  options: ConformanceOptions = {},
): void {
  const test = options.test ?? detectTestRegistrar();
  const log = options.log ?? console.log;
  const ms = options.timeout ?? 5000;
  const burst = options.burst ?? 10_000;
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError(`Cannot register the conformance suite: burst must be a positive integer, got ${burst}`);
  }
  const local = options.noLocalDelivery === undefined;
  let countsWarned = false;
  if (options.skip !== undefined) {
    log(
      `[@alkdev/pubsub/testing] ${name}: skipping the whole suite (skip${
        options.skip === true ? "" : `: ${options.skip}`
      })`,
    );
  }
  for (const testCase of cases) {
    const caseName = typeof testCase.name === "string" ? testCase.name : testCase.name(burst);
    const title = `${name}: conformance: ${caseName}`;
    const missing = options.skip !== undefined
      ? (["skip", options.skip] as const)
      : (testCase.needs ?? []).map((c) => [c, options[c]] as const).find(([, value]) => value !== undefined);
    if (missing !== undefined) {
      const [option, value] = missing;
      const reason = `${option}${value === true ? "" : `: ${value}`}`;
      if (option !== "skip") log(`[@alkdev/pubsub/testing] ${name}: skipping "${caseName}" (${reason})`);
      test(`${title} (skipped: ${reason})`, { ignore: true, skip: reason }, () => Promise.resolve());
      continue;
    }
    test(title, {}, async () => {
      const pair = await factory();
      if (pair.listenerCount === undefined && !countsWarned) {
        countsWarned = true;
        log(`[@alkdev/pubsub/testing] ${name}: listener counts not checked (the pair has no listenerCount)`);
      }
      const a = createPubSub<Events>({ eventTarget: pair.a });
      const b = createPubSub<Events>({ eventTarget: pair.b });
      try {
        await testCase.run({ pair, a, b, ms, burst, local });
      } finally {
        a.close();
        b.close();
        await pair.close();
      }
    });
  }
}

/**
 * The adapter conformance suite: one function that every transport runs over
 * a pair of connected event targets.
 *
 * Rules it checks (see docs/architecture/overview.md):
 * - delivery in both directions, and to the publisher's own subscribers;
 * - isolation by type and id, including the `("a:b","c")` / `("a","b:c")` case;
 * - payloads arrive exactly as published (`null`, `undefined`, `0`, `""`, `false`);
 * - per-publisher ordering;
 * - no listener left after a subscription ends;
 * - a listener that throws does not stop delivery;
 * - `close()` ends subscriptions and refuses publishes.
 */

import assert from "node:assert/strict";
import {
  createPubSub,
  type EnvelopeEvent,
  type PubSub,
  PubSubClosedError,
  type Subscription,
  topicFor,
  type TypedEventTarget,
} from "../mod.ts";

/** Two connected targets: what `a` publishes reaches `b`'s subscribers, and back. */
export interface ConformancePair {
  a: TypedEventTarget<EnvelopeEvent>;
  b: TypedEventTarget<EnvelopeEvent>;
  /** Counts the listeners a target holds for a topic (or all topics), if the adapter can tell. */
  listenerCount?: (target: TypedEventTarget<EnvelopeEvent>, topic?: string) => number;
  /** Releases the transport: sockets, clients, workers. */
  close(): Promise<void> | void;
}

/** Options for {@linkcode conformance}. */
export interface ConformanceOptions {
  /** How long one expected event may take, in ms. @default {5000} */
  timeout?: number;
  /** Passed to `Deno.test`. */
  ignore?: boolean;
}

type Events = {
  greet: string;
  "a:b": string;
  a: string;
  other: string;
  payload: unknown;
  seq: number;
};

/** Reads the next value, failing if none comes within `ms`. */
export async function nextWithin<T>(sub: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No event within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([sub.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectValues<T>(sub: Subscription<T>, expected: T[], ms: number): Promise<void> {
  const got: T[] = [];
  for (let i = 0; i < expected.length; i++) {
    const result = await nextWithin(sub, ms);
    assert.equal(result.done, false, `Subscription ended after ${got.length} values`);
    got.push(result.value as T);
  }
  assert.deepEqual(got, expected);
}

async function withPair(
  factory: () => Promise<ConformancePair>,
  fn: (pair: ConformancePair, a: PubSub<Events>, b: PubSub<Events>) => Promise<void>,
): Promise<void> {
  const pair = await factory();
  const a = createPubSub<Events>({ eventTarget: pair.a });
  const b = createPubSub<Events>({ eventTarget: pair.b });
  try {
    await fn(pair, a, b);
  } finally {
    a.close();
    b.close();
    await pair.close();
  }
}

/**
 * Registers the conformance suite as one `Deno.test` with a step per rule.
 * Each step gets a fresh pair from `factory` and closes it afterwards; Deno's
 * op and resource sanitizers stay on.
 */
export function conformance(
  name: string,
  factory: () => Promise<ConformancePair>,
  options: ConformanceOptions = {},
): void {
  const ms = options.timeout ?? 5000;
  Deno.test({ name: `${name}: conformance`, ignore: options.ignore }, async (t) => {
    await t.step("delivers in both directions", () =>
      withPair(factory, async (_pair, a, b) => {
        const atB = b.subscribe("greet", "1");
        const atA = a.subscribe("greet", "1");
        await Promise.all([a.ready("greet", "1"), b.ready("greet", "1")]);
        a.publish("greet", "1", "from a");
        await expectValues(atB, ["from a"], ms);
        b.publish("greet", "1", "from b");
        // a's own publish reached a's subscriber too (local delivery is part of the contract).
        await expectValues(atA, ["from a", "from b"], ms);
      }));

    await t.step(
      "delivers to the publisher's own subscribers exactly once",
      () =>
        withPair(factory, async (_pair, a, b) => {
          const own = a.subscribe("seq", "self");
          const remote = b.subscribe("seq", "self");
          await Promise.all([a.ready("seq", "self"), b.ready("seq", "self")]);
          a.publish("seq", "self", 1);
          a.publish("seq", "self", 2);
          await expectValues(remote, [1, 2], ms);
          b.publish("seq", "self", 3); // a sentinel that follows 1 and 2 on the wire
          await expectValues(own, [1, 2, 3], ms);
        }),
    );

    await t.step(
      "isolates types and ids, including the colon collision",
      () =>
        withPair(factory, async (_pair, a, b) => {
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
        }),
    );

    await t.step("delivers payloads exactly as published", () =>
      withPair(factory, async (_pair, a, b) => {
        const payloads: unknown[] = [null, undefined, 0, "", false, -1.5, "ünïcødé ✓", [1, null, "x"], {
          nested: { deep: [true, null] },
        }];
        const sub = b.subscribe("payload", "p");
        await b.ready("payload", "p");
        for (const p of payloads) a.publish("payload", "p", p);
        await expectValues(sub, payloads, ms);
      }));

    await t.step("keeps per-publisher order", () =>
      withPair(factory, async (_pair, a, b) => {
        const n = 1000;
        const sub = b.subscribe("seq", "order", { bufferSize: n });
        await b.ready("seq", "order");
        for (let i = 0; i < n; i++) a.publish("seq", "order", i);
        await expectValues(sub, Array.from({ length: n }, (_, i) => i), ms);
      }));

    await t.step("removes listeners when subscriptions end", () =>
      withPair(factory, async (pair, a, b) => {
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
      }));

    await t.step("keeps delivering when a listener throws", () =>
      withPair(factory, async (_pair, a, b) => {
        const topic = topicFor("greet", "throw");
        let thrown = 0;
        const bad = (): void => {
          thrown++;
          throw new Error("Listener failure (expected by the test)");
        };
        _pair.b.addEventListener(topic, bad);
        const sub = b.subscribe("greet", "throw");
        await b.ready("greet", "throw");
        a.publish("greet", "throw", "x");
        a.publish("greet", "throw", "y");
        await expectValues(sub, ["x", "y"], ms);
        assert.equal(thrown, 2);
        _pair.b.removeEventListener(topic, bad);
      }));

    await t.step("close() ends subscriptions and refuses publishes", () =>
      withPair(factory, async (pair, a, b) => {
        const subA = a.subscribe("greet", "close");
        const subB = b.subscribe("greet", "close");
        await Promise.all([a.ready("greet", "close"), b.ready("greet", "close")]);
        a.publish("greet", "close", "last");
        await expectValues(subB, ["last"], ms);
        await expectValues(subA, ["last"], ms);
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
      }));
  });
}

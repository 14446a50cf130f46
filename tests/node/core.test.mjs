// The npm package under Node: every subpath loads, core and the in-process
// adapter work, the operators work. Run by scripts/test_node.ts against the
// installed tarball (`deno task test node`).
import { test } from "node:test";
import assert from "node:assert/strict";

import * as root from "@alkdev/pubsub";
import * as operators from "@alkdev/pubsub/operators";
import * as inProcess from "@alkdev/pubsub/in-process";
import { createPubSub, PubSubClosedError, PubSubError, SubscriptionOverflowError } from "@alkdev/pubsub";
import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";

const SUBPATHS = [
  ".",
  "./operators",
  "./in-process",
  "./redis",
  "./websocket",
  "./bun",
  "./iroh",
  "./worker",
  "./nats",
  "./postgres",
  "./testing",
];
const OPERATORS = [
  "filter",
  "map",
  "pipe",
  "take",
  "reduce",
  "toArray",
  "batch",
  "dedupe",
  "window",
  "flat",
  "groupBy",
  "chain",
  "join",
];

const specifier = (subpath) => (subpath === "." ? "@alkdev/pubsub" : `@alkdev/pubsub/${subpath.slice(2)}`);

test("every subpath loads and exports something", async () => {
  for (const subpath of SUBPATHS) {
    const mod = await import(specifier(subpath));
    assert.ok(Object.keys(mod).length > 0, `${specifier(subpath)} exports nothing`);
  }
});

test("the package self-describes: name, version, exports and engines", async () => {
  const { readFile } = await import("node:fs/promises");
  // "." is mod.js at the package root; package.json sits next to it.
  const pkg = JSON.parse(await readFile(new URL("./package.json", import.meta.resolve("@alkdev/pubsub")), "utf8"));
  assert.equal(pkg.name, "@alkdev/pubsub");
  assert.equal(pkg.type, "module");
  if (process.env.REPO) {
    const deno = JSON.parse(await readFile(`${process.env.REPO}/deno.json`, "utf8"));
    assert.equal(pkg.version, deno.version, "version comes from deno.json");
  }
  assert.deepEqual(Object.keys(pkg.exports).sort(), [...SUBPATHS].sort());
  assert.equal(pkg.engines.node, ">=20");
  assert.ok(pkg.dependencies["@repeaterjs/repeater"]);
  assert.equal(pkg.peerDependenciesMeta.ioredis.optional, true);
  assert.equal(Object.keys(pkg.dependencies).length, 1, "only @repeaterjs/repeater is a dependency");
});

test("core is one copy: adapters' errors extend the PubSubError from the root export", async () => {
  assert.equal(inProcess.InProcessEventTarget, root.InProcessEventTarget);
  for (const subpath of SUBPATHS.slice(1)) {
    const mod = await import(specifier(subpath));
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === "function" && value.prototype instanceof Error) {
        assert.ok(
          value === PubSubError || value.prototype instanceof PubSubError,
          `${specifier(subpath)} ${name} does not extend PubSubError`,
        );
      }
    }
  }
});

test("in-process round trip between two pub/subs on one target", async () => {
  const eventTarget = createInProcessEventTarget();
  const a = createPubSub({ eventTarget });
  const b = createPubSub({ eventTarget });
  const sub = b.subscribe("job.progress", "job-1");
  const other = b.subscribe("job.progress", "job-2");
  await b.ready("job.progress", "job-1");
  const payloads = [{ pct: 10 }, null, undefined, 0, "", false, [1, 2]];
  for (const p of payloads) a.publish("job.progress", "job-1", p);
  a.publish("job.progress", "job-2", "elsewhere");
  const got = [];
  for await (const value of sub) {
    got.push(value);
    if (got.length === payloads.length) break;
  }
  assert.deepEqual(got, payloads);
  assert.equal(got[0], payloads[0], "in process, payloads arrive by reference");
  assert.equal((await other.next()).value, "elsewhere");
  assert.equal(eventTarget.listenerCount(root.topicFor("job.progress", "job-1")), 0, "break released the listener");
  a.close();
  b.close();
  assert.equal((await other.next()).done, true, "close() ends subscriptions");
  assert.equal(eventTarget.listenerCount(), 0);
  assert.throws(() => a.publish("job.progress", "job-1", 1), PubSubClosedError);
  assert.throws(
    () => b.subscribe("job.progress", "job-1"),
    (e) => e instanceof PubSubError && e.code === "ERR_PUBSUB_CLOSED",
  );
});

test("topics are unambiguous and invertible", () => {
  const t1 = root.topicFor("a:b", "c");
  const t2 = root.topicFor("a", "b:c");
  assert.notEqual(t1, t2);
  assert.deepEqual(root.parseTopic(t1), { type: "a:b", id: "c" });
  assert.deepEqual(root.parseTopic(t2), { type: "a", id: "b:c" });
});

test("a full buffer with overflow 'error' raises SubscriptionOverflowError; an abort signal ends a subscription", async () => {
  const pubsub = createPubSub();
  const sub = pubsub.subscribe("tick", "1", { bufferSize: 2 });
  for (let i = 0; i < 3; i++) pubsub.publish("tick", "1", i);
  await assert.rejects(async () => {
    for await (const _ of sub) { /* drain */ }
  }, SubscriptionOverflowError);

  const controller = new AbortController();
  const aborted = pubsub.subscribe("tick", "2", { signal: controller.signal });
  controller.abort();
  assert.equal((await aborted.next()).done, true);
  assert.throws(() => pubsub.subscribe("tick", "3", { bufferSize: 0 }), RangeError);
  pubsub.close();
});

test("envelopes: decodeEnvelope validates and keeps a missing payload as undefined", () => {
  const env = root.decodeEnvelope('{"type":"t","id":"1"}');
  assert.deepEqual(env, { type: "t", id: "1", payload: undefined });
  assert.throws(() => root.decodeEnvelope('{"type":1}'), root.EnvelopeError);
  assert.throws(
    () => root.decodeEnvelope("not json"),
    (e) => e instanceof PubSubError && e.code === "ERR_INVALID_ENVELOPE",
  );
});

// ---------------------------------------------------------------- operators

const collect = async (iterable) => {
  const out = [];
  for await (const v of iterable) out.push(v);
  return out;
};

/** A source that records whether it was opened and whether its `finally` ran. */
function tracked(values) {
  const state = { opened: false, closed: false };
  const source = (async function* () {
    state.opened = true;
    try {
      for (const v of values) yield v;
    } finally {
      state.closed = true;
    }
  })();
  return { source, state };
}

test("operators are exported from both . and ./operators, as the same functions", () => {
  for (const name of OPERATORS) {
    if (!(name in operators)) continue;
    assert.equal(root[name], operators[name], `${name} differs between . and ./operators`);
  }
});

test("all 13 operators are exported", () => {
  assert.deepEqual(OPERATORS.filter((name) => typeof operators[name] !== "function"), []);
});

/** Runs `fn` if every named operator is exported, else skips (the test above then fails). */
function opTest(name, needs, fn) {
  const missing = needs.filter((n) => typeof operators[n] !== "function");
  test(name, missing.length > 0 ? { skip: `not exported yet: ${missing.join(", ")}` } : {}, fn);
}

opTest("pipe + filter + map, with indexes and async callbacks", ["pipe", "filter", "map"], async () => {
  const { pipe, filter, map } = operators;
  const seen = [];
  const out = await collect(
    pipe(
      [1, 2, 3, 4, 5],
      filter((v, i) => {
        seen.push(i);
        return v % 2 === 1;
      }),
      map(async (v, i) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return `${i}:${v * 10}`;
      }),
    ),
  );
  assert.deepEqual(out, ["0:10", "1:30", "2:50"]);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  const composed = pipe(map((v) => v + 1), filter((v) => v > 2));
  assert.deepEqual(await collect(composed([1, 2, 3])), [3, 4]);
});

opTest("filter and map are lazy and close the source on break", ["pipe", "filter", "map"], async () => {
  const { pipe, filter, map } = operators;
  const { source, state } = tracked([1, 2, 3, 4]);
  const stream = pipe(source, filter(() => true), map((v) => v));
  assert.equal(state.opened, false, "nothing opens before the first next()");
  for await (const v of stream) if (v === 2) break;
  assert.equal(state.closed, true);
});

opTest("errors from a source pass through unchanged", ["pipe", "map"], async () => {
  const { pipe, map } = operators;
  const boom = new Error("boom");
  const source = (async function* () {
    yield 1;
    throw boom;
  })();
  await assert.rejects(collect(pipe(source, map((v) => v))), (e) => e === boom);
});

opTest("take: n values, take(0) never starts the source, bad n is a RangeError", ["take"], async () => {
  const { take } = operators;
  const { source, state } = tracked([1, 2, 3]);
  const it = take(2)(source)[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.deepEqual(await it.next(), { value: 2, done: false });
  assert.equal(state.closed, true, "released right after the n-th value");
  assert.equal((await it.next()).done, true);
  const zero = tracked([1]);
  assert.deepEqual(await collect(take(0)(zero.source)), []);
  assert.equal(zero.state.opened, false);
  assert.throws(() => take(-1), RangeError);
  assert.throws(() => take(1.5), RangeError);
});

opTest("take over a real subscription releases the listener as soon as the value is taken", [
  "pipe",
  "filter",
  "take",
], async () => {
  const { pipe, filter, take } = operators;
  const eventTarget = createInProcessEventTarget();
  const pubsub = createPubSub({ eventTarget });
  const stream = pipe(pubsub.subscribe("n", "1"), filter((v) => v > 1), take(1));
  for (const v of [1, 2, 3]) pubsub.publish("n", "1", v);
  const it = stream[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 2, done: false });
  assert.equal(eventTarget.listenerCount(), 0);
  pubsub.close();
});

opTest("reduce and toArray", ["reduce", "toArray"], async () => {
  const { reduce, toArray } = operators;
  assert.deepEqual(await collect(reduce((acc, v) => acc + v, 0)([1, 2, 3])), [6]);
  assert.deepEqual(await collect(reduce((acc, v) => acc + v)([1, 2, 3])), [6]);
  assert.deepEqual(await collect(reduce((acc) => acc, undefined)([])), [undefined], "explicit undefined seed counts");
  await assert.rejects(collect(reduce((a, b) => a + b)([])), TypeError);
  assert.deepEqual(await collect(toArray()([1, 2])), [[1, 2]]);
  assert.deepEqual(await collect(toArray()([])), [[]]);
});

opTest("batch, window and dedupe", ["batch", "window", "dedupe"], async () => {
  const { batch, window, dedupe } = operators;
  assert.deepEqual(await collect(batch(2)([1, 2, 3, 4, 5])), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(await collect(batch(3)([])), []);
  assert.deepEqual(await collect(window(2)([1, 2, 3])), [[1, 2], [2, 3]]);
  assert.deepEqual(await collect(dedupe()([1, 1, 2, 1, NaN, NaN])), [1, 2, NaN]);
  assert.deepEqual(await collect(dedupe(undefined, { max: 1 })([1, 1, 2, 1])), [1, 2, 1]);
  assert.deepEqual(await collect(dedupe((v) => v.k)([{ k: 1 }, { k: 1 }, { k: 2 }])), [{ k: 1 }, { k: 2 }]);
});

opTest("batch flushes after maxWait and leaves no timer behind", ["batch"], async () => {
  const { batch } = operators;
  const source = (async function* () {
    yield 1;
    await new Promise((r) => setTimeout(r, 150));
    yield 2;
  })();
  assert.deepEqual(await collect(batch(10, { maxWait: 20 })(source)), [[1], [2]]);
});

opTest("flat, chain and join", ["flat", "chain", "join"], async () => {
  const { flat, chain, join } = operators;
  assert.deepEqual(await collect(flat()([[1, 2], "ab", [[3]]])), [1, 2, "ab", [3]]);
  assert.deepEqual(await collect(chain([3, 4], [5])([1, 2])), [1, 2, 3, 4, 5]);
  const joined = await collect(join([3, 4])([1, 2]));
  assert.deepEqual([...joined].sort(), [1, 2, 3, 4]);
});

opTest("groupBy emits a group the first time its key is seen", ["groupBy"], async () => {
  const { groupBy } = operators;
  const result = {};
  const pending = [];
  for await (const group of groupBy((v) => (v % 2 === 0 ? "even" : "odd"))([1, 2, 3, 4])) {
    pending.push(collect(group).then((values) => (result[group.key] = values)));
  }
  await Promise.all(pending);
  assert.deepEqual(result, { odd: [1, 3], even: [2, 4] });
});

import assert from "node:assert/strict";
import { Repeater } from "@repeaterjs/repeater";
import { RepeaterBase, Subscription, SubscriptionOverflowError } from "../../mod.ts";

/** A subscription whose source is a push function the test drives. */
function manual<T>(options?: ConstructorParameters<typeof Subscription<T>>[1]) {
  let push!: (value: T) => boolean;
  let stop!: (error?: unknown) => void;
  let cleanups = 0;
  const sub = new Subscription<T>((p, s) => {
    push = p;
    stop = s;
    return () => void cleanups++;
  }, options);
  return { sub, push: (v: T) => push(v), stop: (e?: unknown) => stop(e), cleanups: () => cleanups };
}

Deno.test("Subscription is a Repeater", () => {
  const { sub } = manual<number>();
  assert.ok(sub instanceof Repeater);
  assert.ok(sub instanceof RepeaterBase);
  assert.equal(sub[Symbol.asyncIterator](), sub);
  sub.return();
});

Deno.test("Subscription: values pushed before the first next() are kept, in order", async () => {
  const { sub, push } = manual<number>();
  push(1);
  push(2);
  assert.equal(sub.buffered, 2);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: 2, done: false });
  await sub.return();
});

Deno.test("Subscription: concurrent next() calls resolve in call order", async () => {
  const { sub, push } = manual<number>();
  const a = sub.next(), b = sub.next(), c = sub.next();
  push(1);
  push(2);
  assert.deepEqual(await a, { value: 1, done: false });
  assert.deepEqual(await b, { value: 2, done: false });
  await sub.return();
  assert.deepEqual(await c, { value: undefined, done: true });
});

Deno.test('Subscription: "error" overflow delivers what was buffered, then rejects once, then is done', async () => {
  const { sub, push, cleanups } = manual<number>({ bufferSize: 2 });
  assert.equal(push(1), true);
  assert.equal(push(2), true);
  assert.equal(push(3), false); // overflow: detaches at once
  assert.equal(cleanups(), 1);
  assert.equal(push(4), false);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: 2, done: false });
  await assert.rejects(sub.next(), (error: unknown) => {
    assert.ok(error instanceof SubscriptionOverflowError);
    assert.equal(error.code, "ERR_SUBSCRIPTION_OVERFLOW");
    assert.equal(error.bufferSize, 2);
    return true;
  });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

Deno.test('Subscription: "drop-oldest" keeps the newest values and counts drops', async () => {
  const { sub, push } = manual<number>({ bufferSize: 3, overflow: "drop-oldest" });
  for (let i = 0; i < 10; i++) assert.equal(push(i), true);
  assert.equal(sub.dropped, 7);
  assert.deepEqual([(await sub.next()).value, (await sub.next()).value, (await sub.next()).value], [7, 8, 9]);
  push(10);
  assert.equal((await sub.next()).value, 10);
  await sub.return();
});

Deno.test('Subscription: "drop-newest" keeps the oldest values and counts drops', async () => {
  const { sub, push } = manual<number>({ bufferSize: 3, overflow: "drop-newest" });
  for (let i = 0; i < 10; i++) push(i);
  assert.equal(sub.dropped, 7);
  assert.deepEqual([(await sub.next()).value, (await sub.next()).value, (await sub.next()).value], [0, 1, 2]);
  await sub.return();
});

Deno.test("Subscription: the ring buffer wraps correctly while growing (property-style)", async () => {
  const { sub, push } = manual<number>({ bufferSize: 100, overflow: "drop-oldest" });
  const expected: number[] = [];
  let n = 0;
  for (let round = 0; round < 50; round++) {
    const pushes = (round * 7) % 23, takes = (round * 5) % 19;
    for (let i = 0; i < pushes; i++) {
      push(n);
      expected.push(n++);
    }
    while (expected.length > 100) expected.shift();
    for (let i = 0; i < takes && expected.length > 0; i++) {
      assert.equal((await sub.next()).value, expected.shift());
    }
  }
  await sub.return();
});

Deno.test("Subscription: invalid options are RangeErrors that quote the value", () => {
  const setup = () => {};
  assert.throws(() => new Subscription(setup, { bufferSize: 0 }), { name: "RangeError", message: /got 0/ });
  assert.throws(() => new Subscription(setup, { bufferSize: 1.5 }), { name: "RangeError", message: /got 1.5/ });
  assert.throws(() => new Subscription(setup, { bufferSize: Infinity }), { name: "RangeError", message: /Infinity/ });
  assert.throws(
    () => new Subscription(setup, { overflow: "block" as never }),
    { name: "RangeError", message: /got "block"/ },
  );
});

Deno.test("Subscription: return() discards buffered values, detaches once and ends pending next()", async () => {
  const { sub, push, cleanups } = manual<number>();
  push(1);
  const result = await sub.return();
  assert.deepEqual(result, { value: undefined, done: true });
  assert.equal(cleanups(), 1);
  await sub.return();
  assert.equal(cleanups(), 1);
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
  assert.equal(push(2), false);
});

Deno.test("Subscription: throw() detaches and rejects with the given error", async () => {
  const { sub, cleanups } = manual<number>();
  const boom = new Error("boom");
  await assert.rejects(sub.throw(boom), (e) => e === boom);
  assert.equal(cleanups(), 1);
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

Deno.test("Subscription: stop() drains the buffer, then ends (or rejects once with the error)", async () => {
  const a = manual<number>();
  a.push(1);
  a.stop();
  assert.equal(a.cleanups(), 1);
  assert.deepEqual(await a.sub.next(), { value: 1, done: false });
  assert.deepEqual(await a.sub.next(), { value: undefined, done: true });

  const b = manual<number>();
  const pending = b.sub.next();
  const failure = new Error("source failed");
  b.stop(failure);
  await assert.rejects(pending, (e) => e === failure);
  assert.deepEqual(await b.sub.next(), { value: undefined, done: true });
});

Deno.test("Subscription: abort ends it gracefully and removes the abort listener", async () => {
  const controller = new AbortController();
  const { sub, push, cleanups } = manual<number>({ signal: controller.signal });
  push(1);
  const pending = [sub.next(), sub.next()];
  controller.abort();
  assert.deepEqual(await pending[0], { value: 1, done: false });
  assert.deepEqual(await pending[1], { value: undefined, done: true });
  assert.equal(cleanups(), 1);
});

Deno.test("Subscription: an already aborted signal never runs setup", async () => {
  let ran = false;
  const sub = new Subscription<number>(() => {
    ran = true;
  }, { signal: AbortSignal.abort() });
  assert.equal(ran, false);
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

Deno.test("Subscription: setup that stops synchronously still cleans up", async () => {
  let cleaned = 0;
  const sub = new Subscription<number>((push, stop) => {
    push(1);
    stop();
    return () => void cleaned++;
  });
  assert.equal(cleaned, 1);
  assert.deepEqual(await sub.next(), { value: 1, done: false });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

Deno.test("Subscription: `using` disposes it", () => {
  let cleaned = 0;
  {
    using _sub = new Subscription<number>(() => () => void cleaned++);
  }
  assert.equal(cleaned, 1);
});

Deno.test("Subscription: `for await` with break detaches", async () => {
  const { sub, push, cleanups } = manual<number>();
  push(1);
  push(2);
  for await (const v of sub) {
    assert.equal(v, 1);
    break;
  }
  assert.equal(cleanups(), 1);
});

Deno.test("Subscription: several pending next() calls: stop(error) rejects the first, ends the rest", async () => {
  const { sub, push, stop } = manual<number>();
  const a = sub.next(), b = sub.next(), c = sub.next();
  push(1);
  const failure = new Error("source failed");
  stop(failure);
  assert.deepEqual(await a, { value: 1, done: false });
  await assert.rejects(b, (e) => e === failure);
  assert.deepEqual(await c, { value: undefined, done: true });
  const d = manual<number>();
  const pending = [d.sub.next(), d.sub.next()];
  await d.sub.return();
  assert.deepEqual(await Promise.all(pending), [{ value: undefined, done: true }, { value: undefined, done: true }]);
});

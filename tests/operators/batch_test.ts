import assert from "node:assert/strict";
import { batch, pipe } from "../../mod.ts";
import { collect, isPending, manual, sleep, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("batch: non-overlapping arrays, last partial batch flushed", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 3, 4, 5], batch(2))), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(await collect(pipe([1, 2], batch(2))), [[1, 2]]);
  assert.deepEqual(await collect(pipe([1, 2, 3], batch(Infinity))), [[1, 2, 3]]);
});

Deno.test("batch: rejects bad sizes and maxWait", () => {
  for (const size of [0, -1, 1.5, NaN]) assert.throws(() => batch(size), RangeError);
  for (const maxWait of [-1, NaN, Infinity, "5"]) {
    assert.throws(() => batch(2, { maxWait: maxWait as number }), RangeError);
  }
});

Deno.test("batch: empty source never emits an empty array", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(batch(3, { maxWait: 5 })(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("batch: on error the partial batch is dropped and the error rethrown", async () => {
  const error = new Error("mid");
  const source = tracked([1, 2, 3], { failAt: 3, error });
  const out = batch(2)(source);
  assert.deepEqual(await out.next(), { value: [1, 2], done: false });
  await assert.rejects(out.next(), (e) => e === error);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.equal(source.log.finalized, true);
});

Deno.test("batch: maxWait flushes a partial batch after its first value; no timer outlives it", async () => {
  const { sub, push, cleanups } = manual<number>();
  const out = batch(10, { maxWait: 20 })(sub);
  const first = out.next();
  push(1);
  push(2);
  assert.deepEqual(await within(first), { value: [1, 2], done: false });
  const second = out.next();
  assert.equal(await isPending(second), true); // no value: no timer, no batch
  push(3);
  assert.deepEqual(await within(second), { value: [3], done: false });
  await out.return();
  assert.equal(cleanups(), 1);
});

Deno.test("batch: a batch flushed by the timer while nobody waits is held for the next next()", async () => {
  const { sub, push } = manual<number>();
  const out = batch(10, { maxWait: 5 })(sub);
  const first = out.next();
  push(1);
  assert.deepEqual(await within(first), { value: [1], done: false });
  // The subscription's pending next() was already requested; its value starts a new batch.
  push(2);
  await sleep(30);
  assert.deepEqual(await out.next(), { value: [2], done: false });
  await out.return();
});

Deno.test("batch: consumer break closes the source and clears the timer", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  assert.deepEqual(await takeThenBreak(batch(2, { maxWait: 1000 })(source), 1), [[1, 2]]);
  assert.equal(source.log.finalized, true);
  const { sub, push, cleanups } = manual<number>();
  const out = batch(5, { maxWait: 10_000 })(sub);
  const pending = out.next();
  push(1); // starts the 10 s timer
  await out.return(); // must clear it, or the sanitizer fails this test
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(cleanups(), 1);
});

Deno.test("batch: every batch is a fresh array", async () => {
  const batches = await collect(pipe([1, 2, 3, 4], batch(2)));
  assert.notEqual(batches[0], batches[1]);
  batches[0].push(99);
  assert.deepEqual(batches[1], [3, 4]);
});

Deno.test("batch: slow async source with maxWait", async () => {
  const source = tracked([1, 2, 3, 4, 5], { slow: true });
  const all = (await collect(batch(2, { maxWait: 1000 })(source))).flat();
  assert.deepEqual(all, [1, 2, 3, 4, 5]);
});

Deno.test("batch: signal ends it and closes the source", async () => {
  const controller = new AbortController();
  const { sub, push, cleanups } = manual<number>();
  const out = batch(5, { maxWait: 10_000, signal: controller.signal })(sub);
  const pending = out.next();
  push(1);
  controller.abort();
  assert.deepEqual(await within(pending), { value: undefined, done: true });
  assert.equal(cleanups(), 1);
});

Deno.test("batch: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = batch(2)(source);
  void out.next();
  await within(out.return());
  assert.equal(source.returned(), 1);
});

Deno.test("batch: error after a timer flush nobody took is delivered after that batch", async () => {
  const { sub, push, stop } = manual<number>();
  const out = batch(10, { maxWait: 5 })(sub);
  const first = out.next();
  push(1);
  assert.deepEqual(await first, { value: [1], done: false });
  push(2);
  await sleep(30); // [2] flushed by the timer, held
  const error = new Error("late");
  stop(error);
  assert.deepEqual(await out.next(), { value: [2], done: false });
  await assert.rejects(out.next(), (e) => e === error);
});

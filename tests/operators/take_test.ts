import assert from "node:assert/strict";
import { pipe, take } from "../../mod.ts";
import { collect, isPending, manual, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("take: the first n values", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 3], take(2))), [1, 2]);
  assert.deepEqual(await collect(pipe([1, 2], take(5))), [1, 2]);
  assert.deepEqual(await collect(pipe([1, 2], take(Infinity))), [1, 2]);
});

Deno.test("take: rejects anything but a non-negative integer or Infinity", () => {
  for (const n of [-1, 1.5, NaN, -Infinity, "1", undefined, null]) {
    assert.throws(() => take(n as number), RangeError, String(n));
  }
});

Deno.test("take(0) closes the source on the first next(), without starting it", async () => {
  const source = tracked([1]);
  const out = take(0)(source);
  assert.equal(source.log.opened, 0);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.started, false);
});

Deno.test("take: closes the source as soon as the n-th value arrives, before it is handed on", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  const out = take(2)(source);
  await out.next();
  assert.equal(source.log.finalized, false);
  assert.deepEqual(await out.next(), { value: 2, done: false });
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("take: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(take(3)(source)), []);
  assert.equal(source.log.finalized, true);
  assert.equal(source.log.returned, 0);
});

Deno.test("take: a source error passes through unchanged", async () => {
  const error = new Error("x");
  const source = tracked([1, 2], { failAt: 1, error });
  await assert.rejects(collect(take(5)(source)), (e) => e === error);
  assert.equal(source.log.finalized, true);
});

Deno.test("take: consumer break closes the source", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  assert.deepEqual(await takeThenBreak(take(10)(source), 1), [1]);
  assert.equal(source.log.finalized, true);
});

Deno.test("take: a failing source return() rejects the n-th next()", async () => {
  const error = new Error("cannot close");
  const source = {
    [Symbol.asyncIterator]: (): AsyncIterator<number> => ({
      next: () => Promise.resolve({ value: 1, done: false }),
      return: () => Promise.reject(error),
    }),
  };
  const out = take(1)(source);
  await assert.rejects(out.next(), (e) => e === error);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("take: signal aborts gracefully and closes a pending subscription", async () => {
  const controller = new AbortController();
  const { sub, cleanups } = manual<number>();
  const out = take(5, { signal: controller.signal })(sub);
  const pending = out.next();
  controller.abort();
  assert.deepEqual(await within(pending), { value: undefined, done: true });
  assert.equal(cleanups(), 1);
});

Deno.test("take: an already aborted signal closes the source without starting it", async () => {
  const source = tracked([1]);
  assert.deepEqual(await collect(take(1, { signal: AbortSignal.abort() })(source)), []);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.started, false);
});

Deno.test("take: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = take(3)(source);
  const pending = out.next();
  assert.equal(await isPending(pending), true);
  await within(out.return());
  assert.equal(source.returned(), 1);
});

Deno.test("take: async values from a subscription", async () => {
  const { sub, push, cleanups } = manual<number>();
  const out = take(2)(sub);
  setTimeout(() => {
    push(1);
    push(2);
    push(3);
  }, 1);
  assert.deepEqual(await collect(out), [1, 2]);
  assert.equal(cleanups(), 1);
});

import assert from "node:assert/strict";
import { join, pipe } from "../../mod.ts";
import { collect, isPending, manual, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("join: merges in arrival order; completes when all inputs complete", async () => {
  const a = manual<string>();
  const b = manual<string>();
  const out = pipe(a.sub, join(b.sub));
  const first = out.next();
  b.push("b1");
  assert.deepEqual(await first, { value: "b1", done: false });
  a.push("a1");
  b.push("b2");
  assert.deepEqual(await out.next(), { value: "a1", done: false });
  assert.deepEqual(await out.next(), { value: "b2", done: false });
  a.stop();
  b.push("b3");
  assert.deepEqual(await out.next(), { value: "b3", done: false });
  const last = out.next();
  assert.equal(await isPending(last), true);
  b.stop();
  assert.deepEqual(await within(last), { value: undefined, done: true });
});

Deno.test("join: sync and async sources, all values", async () => {
  const out = await collect(pipe([1, 2], join(tracked([3, 4], { slow: true }), new Set([5]))));
  assert.deepEqual([...out].sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual(await collect(pipe([1], join())), [1]);
});

Deno.test("join: holds at most one pending value per source", async () => {
  let pulled = 0;
  const counting: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ value: ++pulled, done: false }),
      return: () => Promise.resolve({ value: undefined, done: true }),
    }),
  };
  const out = pipe(counting, join(stuck<number>()));
  assert.deepEqual(await out.next(), { value: 1, done: false });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(pulled, 2); // value 2 held, not read further
  assert.deepEqual(await out.next(), { value: 2, done: false });
  await out.return();
});

Deno.test("join: empty sources", async () => {
  const a = tracked<number>([]);
  const b = tracked<number>([]);
  assert.deepEqual(await collect(pipe(a, join(b))), []);
  assert.equal(a.log.finalized && b.log.finalized, true);
});

Deno.test("join: the first error closes the other inputs and is rethrown", async () => {
  const error = new Error("j");
  const bad = tracked([1], { failAt: 1, error, slow: true });
  const other = tracked([10, 11], { forever: true });
  const sub = manual<number>();
  await assert.rejects(collect(pipe(bad, join(other, sub.sub))), (e) => e === error);
  assert.equal(other.log.returned, 1);
  assert.equal(sub.cleanups(), 1);
  await new Promise((r) => setTimeout(r, 5)); // a pending generator next() settles, then its finally runs
  assert.equal(other.log.finalized, true);
});

Deno.test("join: values that arrived before the error are delivered first", async () => {
  const a = manual<number>();
  const b = manual<number>();
  const out = pipe(a.sub, join(b.sub));
  const first = out.next();
  a.push(1);
  await first;
  b.push(2);
  await new Promise((r) => setTimeout(r, 1));
  const error = new Error("after");
  a.stop(error);
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(b.cleanups(), 1);
  assert.deepEqual(await out.next(), { value: 2, done: false });
  await assert.rejects(out.next(), (e) => e === error);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("join: break closes all inputs, including pending ones", async () => {
  const a = manual<number>();
  const b = tracked([1, 2], { forever: true });
  const c = stuck<number>();
  assert.equal((await takeThenBreak(pipe(a.sub, join(b, c)), 1)).length, 1);
  assert.equal(a.cleanups(), 1);
  assert.equal(b.log.returned, 1);
  assert.equal(c.returned(), 1);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(b.log.finalized, true);
});

Deno.test("join: return() with a pending next() settles it and does not hang", async () => {
  const out = pipe(stuck<number>(), join(stuck<number>()));
  const pending = out.next();
  await within(out.return());
  assert.deepEqual(await within(pending), { value: undefined, done: true });
});

Deno.test("join: is lazy; return() before next() closes every source without starting them", async () => {
  const a = tracked([1]);
  const b = tracked([2]);
  const out = pipe(a, join(b));
  assert.equal(a.log.opened + b.log.opened, 0);
  await out.return();
  assert.equal(a.log.returned + b.log.returned, 2);
  assert.equal(a.log.started || b.log.started, false);
});

Deno.test("join: rejects non-iterables", () => {
  assert.throws(() => join(null as never), TypeError);
});

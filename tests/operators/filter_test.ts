import assert from "node:assert/strict";
import { filter, pipe } from "../../mod.ts";
import { collect, isPending, later, manual, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("filter: keeps matching values with their index", async () => {
  const seen: [number, number][] = [];
  const out = await collect(pipe([5, 6, 7, 8], filter((v, i) => (seen.push([v, i]), v % 2 === 0))));
  assert.deepEqual(out, [6, 8]);
  assert.deepEqual(seen, [[5, 0], [6, 1], [7, 2], [8, 3]]);
});

Deno.test("filter: is lazy: nothing opens until the first next()", async () => {
  const source = tracked([1, 2]);
  const out = filter((n: number) => n > 1)(source);
  assert.equal(source.log.opened, 0);
  assert.deepEqual(await out.next(), { value: 2, done: false });
  assert.equal(source.log.opened, 1);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.equal(source.log.finalized, true);
});

Deno.test("filter: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(filter(() => true)(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("filter: a source error mid-stream passes through unchanged", async () => {
  const error = new Error("boom");
  const source = tracked([1, 2, 3], { failAt: 2, error });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const n of filter(() => true)(source)) seen.push(n as number);
    })(),
    (e) => e === error,
  );
  assert.deepEqual(seen, [1, 2]);
  assert.equal(source.log.finalized, true);
});

Deno.test("filter: a predicate error closes the source and is rethrown", async () => {
  const error = new TypeError("bad");
  const source = tracked([1, 2, 3], { forever: true });
  const out = filter((n: number) => {
    if (n === 2) throw error;
    return true;
  })(source);
  assert.deepEqual(await out.next(), { value: 1, done: false });
  await assert.rejects(out.next(), (e) => e === error);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("filter: consumer break closes the source", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  assert.deepEqual(await takeThenBreak(filter((n: number) => n > 1)(source), 1), [2]);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("filter: async predicates keep order", async () => {
  const out = await collect(
    pipe(
      [1, 2, 3, 4],
      filter(async (n) => {
        await new Promise((r) => setTimeout(r, (5 - n) * 2));
        return n !== 2;
      }),
    ),
  );
  assert.deepEqual(out, [1, 3, 4]);
  const rejected = new Error("async no");
  await assert.rejects(collect(pipe([1], filter(() => Promise.reject(rejected)))), (e) => e === rejected);
});

Deno.test("filter: a type guard narrows; values that are promises pass untouched", async () => {
  const p = Promise.resolve(1);
  const out = await collect(
    pipe<unknown, Promise<number>>([p, 2], filter((v): v is Promise<number> => v instanceof Promise)),
  );
  assert.equal(out.length, 1);
  assert.equal(out[0], p);
});

Deno.test("filter: return() while next() is pending on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = filter(() => true)(source);
  const pending = out.next();
  assert.equal(await isPending(pending), true);
  assert.deepEqual(await within(out.return()), { value: undefined, done: true });
  assert.equal(source.returned(), 1);
});

Deno.test("filter: return() while next() is pending on a subscription settles that next()", async () => {
  const { sub, cleanups } = manual<number>();
  const out = filter(() => true)(sub);
  const pending = out.next();
  await out.return();
  assert.equal(cleanups(), 1);
  assert.deepEqual(await within(pending), { value: undefined, done: true });
});

Deno.test("filter: concurrent next() calls resolve in call order", async () => {
  const out = filter(async (n: number) => {
    await new Promise((r) => setTimeout(r, n === 1 ? 10 : 0));
    return true;
  })([1, 2, 3]);
  const results = await Promise.all([out.next(), out.next(), out.next(), out.next()]);
  assert.deepEqual(results.map((r) => r.value), [1, 2, 3, undefined]);
  assert.equal(results[3].done, true);
});

Deno.test("filter: rejects a non-function predicate", () => {
  assert.throws(() => filter(42 as never), TypeError);
});

Deno.test("filter: return() before next() closes the source without starting it", async () => {
  const source = tracked([1]);
  const out = filter(() => true)(source);
  await out.return();
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.equal(source.log.opened, 1);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.started, false);
  void later;
});

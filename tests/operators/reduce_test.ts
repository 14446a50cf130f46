import assert from "node:assert/strict";
import { pipe, reduce, toArray } from "../../mod.ts";
import { collect, isPending, manual, stuck, tracked, within } from "./helpers.ts";

Deno.test("reduce: folds, emitting exactly one value at the end", async () => {
  const calls: [number, number, number][] = [];
  const out = await collect(pipe([1, 2, 3], reduce((a, b, i) => (calls.push([a, b, i]), a + b))));
  assert.deepEqual(out, [6]);
  assert.deepEqual(calls, [[1, 2, 1], [3, 3, 2]]);
  assert.deepEqual(await collect(pipe([1, 2], reduce((a, b, i) => a + b + i, 10))), [14]);
});

Deno.test("reduce: an empty source without seed rejects with TypeError; with a seed yields it", async () => {
  const source = tracked<number>([]);
  const out = reduce((a: number, b: number) => a + b)(source);
  await assert.rejects(out.next(), TypeError);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.deepEqual(await collect(pipe([] as number[], reduce((a, b) => a + b, 5))), [5]);
});

Deno.test("reduce: an explicit undefined seed counts as a seed", async () => {
  assert.deepEqual(await collect(pipe([] as number[], reduce((_a: number | undefined, b: number) => b, undefined))), [
    undefined,
  ]);
  const seen: unknown[] = [];
  await collect(pipe([1], reduce((a: unknown, b: number) => (seen.push(a), b), undefined)));
  assert.deepEqual(seen, [undefined]);
});

Deno.test("reduce: a source error passes through; a reducer error closes the source", async () => {
  const error = new Error("src");
  const failing = tracked([1, 2], { failAt: 1, error });
  await assert.rejects(collect(pipe(failing, reduce((a, b) => a + b))), (e) => e === error);
  assert.equal(failing.log.finalized, true);
  const source = tracked([1, 2, 3], { forever: true });
  const bad = new Error("reducer");
  await assert.rejects(
    collect(
      reduce(async (_a: number, b: number) => {
        await Promise.resolve();
        if (b === 3) throw bad;
        return b;
      })(source),
    ),
    (e) => e === bad,
  );
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("reduce: async reducers are awaited", async () => {
  assert.deepEqual(
    await collect(pipe(
      [1, 2, 3],
      reduce(async (acc, n) => {
        await new Promise((r) => setTimeout(r, 1));
        return acc + n;
      }, 0),
    )),
    [6],
  );
});

Deno.test("reduce: return() while reading a subscription closes it and settles next()", async () => {
  const { sub, push, cleanups } = manual<number>();
  const out = reduce((a: number, b: number) => a + b, 0)(sub);
  push(1);
  const pending = out.next();
  assert.equal(await isPending(pending), true);
  await out.return();
  assert.equal(cleanups(), 1);
  assert.deepEqual(await within(pending), { value: undefined, done: true });
});

Deno.test("reduce: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = reduce((a: number, b: number) => a + b)(source);
  void out.next();
  await within(out.return());
  assert.equal(source.returned(), 1);
});

Deno.test("toArray: one fresh array; [] for an empty source", async () => {
  const input = [1, 2];
  const [array] = await collect(pipe(input, toArray()));
  assert.deepEqual(array, [1, 2]);
  assert.notEqual(array, input);
  const empty = tracked<number>([]);
  assert.deepEqual(await collect(toArray()(empty)), [[]]);
  assert.equal(empty.log.finalized, true);
});

Deno.test("toArray: a source error passes through unchanged", async () => {
  const error = new Error("x");
  const source = tracked([1, 2], { failAt: 1, error });
  await assert.rejects(collect(toArray()(source)), (e) => e === error);
  assert.equal(source.log.finalized, true);
});

Deno.test("toArray: return() while reading closes the source and settles next()", async () => {
  const { sub, push, cleanups } = manual<number>();
  const out = toArray<number>()(sub);
  push(1);
  const pending = out.next();
  await out.return();
  assert.equal(cleanups(), 1);
  assert.deepEqual(await within(pending), { value: undefined, done: true });
  const source = stuck<number>();
  const stuckOut = toArray<number>()(source);
  void stuckOut.next();
  await within(stuckOut.return());
  assert.equal(source.returned(), 1);
});

Deno.test("toArray: async source values", async () => {
  assert.deepEqual(await collect(toArray()(tracked([1, 2, 3], { slow: true }))), [[1, 2, 3]]);
});

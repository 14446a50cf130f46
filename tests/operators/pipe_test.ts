import assert from "node:assert/strict";
import { filter, map, type OperatorFunction, pipe, take } from "../../mod.ts";
import { collect, takeThenBreak, tracked } from "./helpers.ts";

Deno.test("pipe: applies operators left to right, fusing filter/map runs with per-step indexes", async () => {
  const calls: string[] = [];
  const out = await collect(pipe(
    [1, 2, 3, 4, 5, 6],
    filter((n, i) => (calls.push(`f${i}`), n % 2 === 0)),
    map((n, i) => (calls.push(`m${i}`), n * 10)),
    filter((n, i) => (calls.push(`g${i}`), Promise.resolve(n !== 40))),
    map((n) => `${n}`),
  ));
  assert.deepEqual(out, ["20", "60"]);
  assert.deepEqual(calls, ["f0", "f1", "m0", "g0", "f2", "f3", "m1", "g1", "f4", "f5", "m2", "g2"]);
});

Deno.test("pipe: with no operators returns a lazy stream over the source", async () => {
  const source = tracked([1, 2]);
  const out = pipe(source);
  assert.equal(source.log.opened, 0);
  assert.deepEqual(await collect(out), [1, 2]);
  assert.deepEqual(await collect(pipe(new Set(["a"]))), ["a"]);
});

Deno.test("pipe: composes operators when given no source", async () => {
  const op = pipe(filter((n: number) => n > 1), map((n) => n * 2), take(2));
  assert.deepEqual(await collect(op([1, 2, 3, 4])), [4, 6]);
  assert.deepEqual(await collect(op([5])), [10]);
});

Deno.test("pipe: accepts async generator functions as steps, wrapping sync sources", async () => {
  const pairs: OperatorFunction<number, [number, number]> = async function* (source) {
    for await (const n of source) yield [n, n * n];
  };
  const out = pipe([2, 3], pairs, map(([a, b]) => a + b));
  assert.deepEqual(await collect(out), [6, 12]);
  const only = pipe([1], pairs);
  assert.equal(typeof only.next, "function");
  assert.deepEqual(await collect(only), [[1, 1]]);
});

Deno.test("pipe: types flow through 12 steps", async () => {
  const out = pipe(
    [1, 2, 3],
    map((n) => n + 1),
    map((n) => `${n}`),
    map((s) => s.length),
    filter((n) => n > 0),
    map((n) => [n]),
    map((a) => a[0]),
    map((n) => ({ n })),
    map((o) => o.n),
    map((n) => n * 2),
    filter((n): n is 2 => n === 2),
    map((two) => two + 1),
    map((three) => three === 3),
  );
  const values: boolean[] = await collect(out);
  assert.deepEqual(values, [true, true, true]);
});

Deno.test("pipe: breaking the outermost stream closes the source through every step", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  const out = pipe(source, map((n: number) => n), async function* (s) {
    yield* s;
  }, filter(() => true));
  assert.deepEqual(await takeThenBreak(out, 2), [1, 2]);
  assert.equal(source.log.finalized, true);
});

Deno.test("pipe: rejects bad arguments", () => {
  assert.throws(() => (pipe as (...a: unknown[]) => unknown)(), TypeError);
  assert.throws(() => (pipe as (...a: unknown[]) => unknown)(42, map((n) => n)), TypeError);
  assert.throws(() => (pipe as (...a: unknown[]) => unknown)([1], 42), TypeError);
  assert.throws(() => (pipe as (...a: unknown[]) => unknown)([1], () => 42), TypeError);
  const composed = pipe(map((n: number) => n));
  assert.throws(() => composed(42 as never), TypeError);
});

Deno.test("pipe: a source whose iterator cannot be made rejects the first next()", async () => {
  const error = new Error("no iterator");
  const source = {
    [Symbol.asyncIterator](): AsyncIterator<number> {
      throw error;
    },
  };
  const out = pipe(source, map((n) => n));
  await assert.rejects(out.next(), (e) => e === error);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("pipe: await using closes the stream", async () => {
  const source = tracked([1, 2], { forever: true });
  {
    await using out = pipe(source, map((n: number) => n));
    await out.next();
  }
  assert.equal(source.log.finalized, true);
});

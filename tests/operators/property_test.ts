/** Property-based tests: random inputs against reference models, plus cleanup on random early exits. */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  batch,
  chain,
  dedupe,
  filter,
  flat,
  map,
  type Operator,
  pipe,
  reduce,
  take,
  toArray,
  window,
} from "../../mod.ts";
import { collect, takeThenBreak, tracked } from "./helpers.ts";

const ints = fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 60 });
const runs = { numRuns: 80 };
/** Sync or async source, at random. */
const asyncish = fc.boolean();

function src<T>(values: T[], async: boolean) {
  return async ? tracked(values) : values;
}

function chunk<T>(values: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function windows<T>(values: T[], size: number, step: number, partial: boolean): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < values.length; start += step) {
    const w = values.slice(start, start + size);
    if (w.length === size || partial) out.push(w);
  }
  return out;
}

function lruDedupe<T>(values: T[], max: number): T[] {
  const recent: T[] = [];
  const out: T[] = [];
  for (const v of values) {
    const i = recent.findIndex((r) => Object.is(r, v) || (r === 0 && v === 0));
    if (i >= 0) recent.splice(i, 1);
    else out.push(v);
    recent.push(v);
    if (recent.length > max) recent.shift();
  }
  return out;
}

Deno.test("property: filter and map match Array.prototype, async callbacks included", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer({ min: 1, max: 4 }), asyncish, fc.boolean(), async (values, k, a, asyncFn) => {
      const pred = (v: number, i: number) => (v * i) % k === 0;
      const fn = (v: number, i: number) => v - i;
      const p = asyncFn ? (v: number, i: number) => Promise.resolve(pred(v, i)) : pred;
      const f = asyncFn ? (v: number, i: number) => Promise.resolve(fn(v, i)) : fn;
      assert.deepEqual(await collect(pipe(src(values, a), filter(p))), values.filter(pred));
      assert.deepEqual(await collect(pipe(src(values, a), map(f))), values.map(fn));
      assert.deepEqual(
        await collect(pipe(src(values, a), filter(p), map(f))),
        values.filter(pred).map(fn),
      );
    }),
    runs,
  );
});

Deno.test("property: take matches slice and closes the source exactly when needed", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.nat(70), async (values, n) => {
      const source = tracked(values);
      assert.deepEqual(await collect(take(n)(source)), values.slice(0, n));
      assert.equal(source.log.opened, 1);
      assert.equal(source.log.started, n > 0); // take(0) closes it without starting it
      if (n > 0) assert.equal(source.log.finalized, true);
      assert.equal(source.log.returned, n <= values.length ? 1 : 0);
    }),
    runs,
  );
});

Deno.test("property: reduce and toArray match Array.prototype", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer(), asyncish, async (values, seed, a) => {
      const fn = (acc: number, v: number, i: number) => (acc * 7 + v + i) % 10_007;
      assert.deepEqual(await collect(pipe(src(values, a), reduce(fn, seed))), [values.reduce(fn, seed)]);
      if (values.length > 0) assert.deepEqual(await collect(pipe(src(values, a), reduce(fn))), [values.reduce(fn)]);
      else await assert.rejects(collect(pipe(src(values, a), reduce(fn))), TypeError);
      assert.deepEqual(await collect(pipe(src(values, a), toArray())), [values]);
    }),
    runs,
  );
});

Deno.test("property: batch is chunking; concatenated batches give the input back", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer({ min: 1, max: 10 }), asyncish, async (values, size, a) => {
      const batches = await collect(pipe(src(values, a), batch(size)));
      assert.deepEqual(batches, chunk(values, size));
      assert.ok(batches.every((b) => b.length > 0 && b.length <= size));
    }),
    runs,
  );
});

Deno.test("property: batch with maxWait never loses, reorders or empties", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer(), { maxLength: 20 }),
      fc.integer({ min: 1, max: 5 }),
      async (values, size) => {
        const batches = await collect(batch(size, { maxWait: 0 })(tracked(values, { slow: true })));
        assert.deepEqual(batches.flat(), values);
        assert.ok(batches.every((b) => b.length > 0 && b.length <= size));
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("property: dedupe matches a Set; with max, an LRU of keys", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 6 }),
      asyncish,
      async (values, max, a) => {
        assert.deepEqual(await collect(pipe(src(values, a), dedupe())), [...new Set(values)]);
        assert.deepEqual(await collect(pipe(src(values, a), dedupe(undefined, { max }))), lruDedupe(values, max));
      },
    ),
    runs,
  );
});

Deno.test("property: window matches a slicing model", async () => {
  await fc.assert(
    fc.asyncProperty(
      ints,
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 7 }),
      fc.boolean(),
      asyncish,
      async (values, size, step, partial, a) => {
        assert.deepEqual(
          await collect(pipe(src(values, a), window(size, step, { partial }))),
          windows(values, size, step, partial),
        );
      },
    ),
    runs,
  );
});

type Nested = number | string | Nested[];
const nested: fc.Arbitrary<Nested[]> = fc.letrec<{ item: Nested; list: Nested[] }>((tie) => ({
  item: fc.oneof({ depthSize: "small" }, fc.integer(), fc.string({ maxLength: 3 }), tie("list")),
  list: fc.array(tie("item"), { maxLength: 4 }),
})).list;

Deno.test("property: flat matches Array.prototype.flat at every depth", async () => {
  await fc.assert(
    fc.asyncProperty(nested, fc.oneof(fc.nat(4), fc.constant(Infinity)), asyncish, async (tree, depth, a) => {
      const ours = await collect(pipe(src(tree as unknown[], a), flat(depth)));
      assert.deepEqual(ours, (tree as unknown[]).flat(depth));
    }),
    runs,
  );
});

Deno.test("property: chain is concatenation", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(ints, { maxLength: 5 }), asyncish, async (lists, a) => {
      const [first = [], ...rest] = lists;
      assert.deepEqual(
        await collect(pipe(src(first, a), chain(...rest.map((l) => src(l, !a))))),
        lists.flat(),
      );
    }),
    runs,
  );
});

Deno.test("property: a random early break closes the source for every operator", async () => {
  const ops: [string, () => Operator<number, unknown>][] = [
    ["filter", () => filter((n: number) => n % 2 === 0)],
    ["map", () => map((n: number) => n + 1)],
    ["take", () => take(1000)],
    ["batch", () => batch(3, { maxWait: 1000 })],
    ["dedupe", () => dedupe((n: number) => n, { max: 4 })],
    ["window", () => window(3, 2)],
    ["flat", () => flat()],
    ["chain", () => chain([1, 2, 3])],
  ];
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: ops.length - 1 }), fc.integer({ min: 1, max: 8 }), async (o, n) => {
      const source = tracked([1, 2, 3, 4, 5, 6, 7, 8], { forever: true });
      const out = await takeThenBreak(ops[o][1]()(source), n);
      assert.equal(out.length, n, ops[o][0]);
      assert.equal(source.log.finalized, true, ops[o][0]);
    }),
    { numRuns: 40 },
  );
});

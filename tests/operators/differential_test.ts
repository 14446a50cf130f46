/** Differential tests: the same random inputs through our operators and IxJS, where the semantics coincide. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { from, reduce as ixReduce, toArray as ixToArray } from "ix/asynciterable";
import * as ix from "ix/asynciterable/operators";
import {
  batch,
  chain,
  dedupe,
  filter,
  flat,
  groupBy,
  join,
  map,
  pipe,
  reduce,
  take,
  toArray,
  window,
} from "../../mod.ts";
import { collect } from "./helpers.ts";

const ints = fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 });
const runs = { numRuns: 60 };

/** An async source over an array (a fresh one per call). */
async function* source<T>(values: readonly T[]): AsyncGenerator<T> {
  for (const v of values) yield v;
}

Deno.test("differential vs IxJS: filter, map (with index) and take", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer({ min: 1, max: 5 }), fc.nat(45), async (values, k, n) => {
      const pred = (v: number, i: number) => (v + i) % k === 0;
      const fn = (v: number, i: number) => v * 3 - i;
      const ours = await collect(pipe(source(values), filter(pred), map(fn), take(n)));
      const theirs = await ixToArray(from(source(values)).pipe(ix.filter(pred), ix.map(fn), ix.take(n)));
      assert.deepEqual(ours, theirs);
    }),
    runs,
  );
});

Deno.test("differential vs IxJS: reduce (with and without seed) and toArray", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer(), { minLength: 1, maxLength: 30 }), async (values) => {
      const fn = (a: number, b: number, i: number) => (a * 31 + b + i) % 1_000_003;
      assert.deepEqual(
        await collect(pipe(source(values), reduce(fn))),
        [await ixReduce(from(source(values)), { callback: fn })],
      );
      assert.deepEqual(
        await collect(pipe(source(values), reduce(fn, 7))),
        [await ixReduce(from(source(values)), { callback: fn, seed: 7 })],
      );
      assert.deepEqual(await collect(pipe(source(values), toArray())), [await ixToArray(from(source(values)))]);
    }),
    runs,
  );
});

Deno.test("differential vs IxJS: batch(size) is buffer(size); window is buffer(size, step)", async () => {
  await fc.assert(
    fc.asyncProperty(
      ints,
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      async (values, size, step) => {
        const theirsBatch = await ixToArray(from(source(values)).pipe(ix.buffer(size)));
        assert.deepEqual(await collect(pipe(source(values), batch(size))), theirsBatch);
        const theirsWindow = await ixToArray(from(source(values)).pipe(ix.buffer(size, step)));
        assert.deepEqual(await collect(pipe(source(values), window(size, step, { partial: true }))), theirsWindow);
        assert.deepEqual(
          await collect(pipe(source(values), window(size, step))),
          theirsWindow.filter((w) => w.length === size),
        );
      },
    ),
    runs,
  );
});

Deno.test("differential vs IxJS: dedupe is distinct; dedupe with max 1 is distinctUntilChanged", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer({ min: 1, max: 7 }), async (values, m) => {
      const key = (v: number) => Math.abs(v) % m;
      assert.deepEqual(
        await collect(pipe(source(values), dedupe(key))),
        await ixToArray(from(source(values)).pipe(ix.distinct({ keySelector: key }))),
      );
      assert.deepEqual(
        await collect(pipe(source(values), dedupe(key, { max: 1 }))),
        await ixToArray(from(source(values)).pipe(ix.distinctUntilChanged({ keySelector: key }))),
      );
    }),
    runs,
  );
});

type Nested = number | Nested[];
const nested: fc.Arbitrary<Nested[]> = fc.letrec<{ item: Nested; list: Nested[] }>((tie) => ({
  item: fc.oneof({ depthSize: "small", withCrossShrink: true }, fc.integer(), tie("list")),
  list: fc.array(tie("item"), { maxLength: 4 }),
})).list;

/** The same tree with every array turned into an async iterable. */
function toAsync(value: Nested): unknown {
  return Array.isArray(value) ? source(value.map(toAsync)) : value;
}

Deno.test("differential vs IxJS: flat is concatAll on one level, and flat(-1) as a multiset", async () => {
  // A source of async iterables of values: the same values in the same order as concatAll.
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.integer(), { maxLength: 4 })), async (list) => {
      const ours = await collect(pipe(source(list.map(toAsync)), flat()));
      const theirs = await ixToArray(
        from(source(list.map((inner) => source(inner)))).pipe(ix.concatAll()),
      );
      assert.deepEqual(ours, theirs);
    }),
    runs,
  );
  // Deeper trees: IxJS's flat reorders values even with concurrency 1 (its nested levels
  // run with unbounded concurrency: [[[[0], 1]]] gives [1, 0]); only the multiset
  // coincides. Ours keeps the order of Array.prototype.flat.
  await fc.assert(
    fc.asyncProperty(nested, async (tree) => {
      const ours = await collect(pipe(source(tree.map(toAsync)), flat(Infinity)));
      const theirs = await ixToArray(from(source(tree.map(toAsync))).pipe(ix.flat(-1, 1)));
      const sort = (a: unknown[]) => [...a].sort((x, y) => Number(x) - Number(y));
      assert.deepEqual(sort(ours), sort(theirs));
      assert.deepEqual(ours, (tree as unknown[]).flat(Infinity));
    }),
    runs,
  );
});

Deno.test("differential vs IxJS: chain is concatWith; join is mergeWith (as a multiset)", async () => {
  await fc.assert(
    fc.asyncProperty(ints, ints, ints, async (a, b, c) => {
      assert.deepEqual(
        await collect(pipe(source(a), chain(source(b), source(c)))),
        await ixToArray(from(source(a)).pipe(ix.concatWith(source(b), source(c)))),
      );
      const ours = await collect(pipe(source(a), join(source(b), source(c))));
      const theirs = await ixToArray(from(source(a)).pipe(ix.mergeWith(source(b), source(c))));
      assert.deepEqual([...ours].sort((x, y) => x - y), [...theirs].sort((x, y) => x - y));
    }),
    runs,
  );
});

Deno.test("differential vs IxJS: groupBy gives the same groups on a finite source", async () => {
  await fc.assert(
    fc.asyncProperty(ints, fc.integer({ min: 1, max: 5 }), async (values, m) => {
      const key = (v: number) => Math.abs(v) % m;
      const ours: [number, number[]][] = [];
      for await (const group of pipe(source(values), groupBy(key))) ours.push([group.key, await collect(group)]);
      const theirs: [number, number[]][] = [];
      for await (const group of from(source(values)).pipe(ix.groupBy(key))) {
        theirs.push([group.key, await ixToArray(group)]);
      }
      assert.deepEqual(ours, theirs);
    }),
    runs,
  );
});

import assert from "node:assert/strict";
import { dedupe, pipe } from "../../mod.ts";
import { collect, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("dedupe: drops repeated values (SameValueZero)", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 1, 3, 2], dedupe())), [1, 2, 3]);
  assert.deepEqual(await collect(pipe([NaN, NaN, 0, -0, "0"], dedupe())), [NaN, 0, "0"]);
  const a = { id: 1 };
  assert.deepEqual(await collect(pipe([a, a, { id: 1 }], dedupe())), [a, { id: 1 }]);
});

Deno.test("dedupe: by key, with the index", async () => {
  const indexes: number[] = [];
  const out = await collect(pipe([{ k: "a" }, { k: "b" }, { k: "a" }], dedupe((v, i) => (indexes.push(i), v.k))));
  assert.deepEqual(out, [{ k: "a" }, { k: "b" }]);
  assert.deepEqual(indexes, [0, 1, 2]);
});

Deno.test("dedupe: max 1 is distinct-until-changed", async () => {
  assert.deepEqual(await collect(pipe([1, 1, 2, 2, 1, NaN, NaN], dedupe(undefined, { max: 1 }))), [1, 2, 1, NaN]);
});

Deno.test("dedupe: max keeps the most recently seen keys", async () => {
  // max 2: after 1,2,3 the key 1 is forgotten; a repeat refreshes a key.
  assert.deepEqual(await collect(pipe([1, 2, 3, 1], dedupe(undefined, { max: 2 }))), [1, 2, 3, 1]);
  assert.deepEqual(await collect(pipe([1, 2, 1, 3, 1, 2], dedupe(undefined, { max: 2 }))), [1, 2, 3, 2]);
});

Deno.test("dedupe: rejects bad options", () => {
  for (const max of [0, -1, 1.5, NaN]) assert.throws(() => dedupe(undefined, { max }), RangeError);
  assert.throws(() => dedupe(5 as never), TypeError);
});

Deno.test("dedupe: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(dedupe()(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("dedupe: source errors pass through; key errors close the source", async () => {
  const error = new Error("src");
  const failing = tracked([1, 1, 2], { failAt: 2, error });
  await assert.rejects(collect(dedupe()(failing)), (e) => e === error);
  const source = tracked([1, 2], { forever: true });
  const bad = new Error("key");
  await assert.rejects(
    collect(
      dedupe((n: number) => {
        if (n === 2) throw bad;
        return n;
      })(source),
    ),
    (e) => e === bad,
  );
  assert.equal(source.log.finalized, true);
});

Deno.test("dedupe: consumer break closes the source", async () => {
  const source = tracked([1, 1, 2], { forever: true, filler: 7 });
  assert.deepEqual(await takeThenBreak(dedupe()(source), 3), [1, 2, 7]);
  assert.equal(source.log.finalized, true);
});

Deno.test("dedupe: async key functions", async () => {
  assert.deepEqual(await collect(pipe(["a", "A", "b"], dedupe((s) => Promise.resolve(s.toLowerCase())))), ["a", "b"]);
});

Deno.test("dedupe: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = dedupe()(source);
  void out.next();
  await within(out.return());
  assert.equal(source.returned(), 1);
});

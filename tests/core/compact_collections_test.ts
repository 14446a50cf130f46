import assert from "node:assert/strict";
import fc from "fast-check";
import { CompactMap, CompactSet } from "../../core/compact_collections.ts";

// Operations on a few small keys, so sets and maps cross their thresholds (a second member; a ninth entry) both ways.
const key = fc.integer({ min: 0, max: 11 });
const op = fc.oneof(
  fc.record({ op: fc.constant("add" as const), key }),
  fc.record({ op: fc.constant("delete" as const), key }),
  fc.record({ op: fc.constant("clear" as const), key }),
);

Deno.test("CompactSet behaves as a Set: membership, size and insertion order after any operations", () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const compact = new CompactSet<number>();
    const model = new Set<number>();
    for (const { op, key } of ops) {
      if (op === "add") {
        assert.equal(compact.add(key), compact);
        model.add(key);
      } else if (op === "delete") assert.equal(compact.delete(key), model.delete(key));
      for (let k = 0; k < 12; k++) assert.equal(compact.has(k), model.has(k));
      assert.equal(compact.size, model.size);
      assert.deepEqual([...compact], [...model]);
    }
  }));
});

Deno.test("CompactMap behaves as a Map: values, size and insertion order after any operations", () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
    const compact = new CompactMap<number, string>();
    const model = new Map<number, string>();
    let n = 0;
    for (const { op, key } of ops) {
      if (op === "add") {
        const value = `v${n++}`;
        assert.equal(compact.set(key, value), compact);
        model.set(key, value);
      } else if (op === "delete") assert.equal(compact.delete(key), model.delete(key));
      else {
        compact.clear();
        model.clear();
      }
      for (let k = 0; k < 12; k++) {
        assert.equal(compact.get(k), model.get(k));
        assert.equal(compact.has(k), model.has(k));
      }
      assert.equal(compact.size, model.size);
      assert.deepEqual([...compact], [...model]);
    }
  }));
});

Deno.test("CompactSet: deleting members while iterating visits the rest once, as a Set does", () => {
  for (const members of [["a"], ["a", "b", "c"]]) {
    const set = new CompactSet<string>();
    for (const m of members) set.add(m);
    const seen: string[] = [];
    for (const m of set) {
      seen.push(m);
      set.delete(m);
    }
    assert.deepEqual(seen, members);
    assert.equal(set.size, 0);
    assert.deepEqual([...set], []);
  }
});

Deno.test("CompactMap: a key equal by === finds its entry; strings are compared by value", () => {
  const map = new CompactMap<string, number>();
  map.set("user:" + String(1), 1);
  assert.equal(map.get(["user", "1"].join(":")), 1);
  map.set("user:1", 2);
  assert.equal(map.size, 1);
  assert.equal(map.get("user:1"), 2);
});

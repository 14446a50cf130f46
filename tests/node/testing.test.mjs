// The conformance kit `@alkdev/pubsub/testing` under node:test, from the npm
// package: the in-process target with the runner found by the kit
// (process.getBuiltinModule("node:test")), again with `test` passed in, and a
// declared missing capability, which must be printed and reported as a skip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
import { conformance, detectTestRegistrar } from "@alkdev/pubsub/testing";

const pair = () => {
  const target = createInProcessEventTarget({ onListenerError: () => {} });
  return { a: target, b: target, listenerCount: (_, topic) => target.listenerCount(topic), close: () => {} };
};

test("the kit finds node:test's test by itself", () => {
  assert.equal(detectTestRegistrar(), test);
});

conformance("in-process (runner detected)", pair);

const printed = [];
conformance("in-process (runner passed, no burst)", pair, {
  test,
  noBurst: "declared by this test to show a printed skip",
  log: (line) => {
    printed.push(line);
    console.log(line);
  },
});

test("a declared missing capability is printed", () => {
  assert.equal(printed.length, 1);
  assert.match(printed[0], /skipping "the remote side bursts 10000 events.*noBurst: declared by this test/);
});

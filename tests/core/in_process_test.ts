import assert from "node:assert/strict";
import { createInProcessEventTarget } from "../../adapters/in_process/mod.ts";
import type { TypedEvent } from "../../mod.ts";

const event = (type: string) => new CustomEvent(type, { detail: { type: "t", id: "1", payload: 1 } });

Deno.test("InProcessEventTarget: a throwing listener is reported and the others still run", () => {
  const errors: [unknown, string][] = [];
  const target = createInProcessEventTarget({ onListenerError: (e, ev) => errors.push([e, ev.type]) });
  const calls: string[] = [];
  target.addEventListener("x", () => calls.push("first"));
  target.addEventListener("x", () => {
    throw new Error("bad");
  });
  target.addEventListener("x", { handleEvent: () => calls.push("object") });
  assert.equal(target.dispatchEvent(event("x")), true);
  assert.deepEqual(calls, ["first", "object"]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0][1], "x");
});

Deno.test("InProcessEventTarget: once, signal, duplicates and capture follow the DOM", () => {
  const target = createInProcessEventTarget();
  let n = 0;
  const listener = () => void n++;
  target.addEventListener("x", listener);
  target.addEventListener("x", listener); // duplicate: ignored
  target.addEventListener("x", listener, true); // capture differs: separate
  assert.equal(target.listenerCount("x"), 2);
  target.dispatchEvent(event("x"));
  assert.equal(n, 2);
  target.removeEventListener("x", listener, { capture: true });
  target.removeEventListener("x", listener);
  assert.equal(target.listenerCount(), 0);

  target.addEventListener("y", listener, { once: true });
  target.dispatchEvent(event("y"));
  target.dispatchEvent(event("y"));
  assert.equal(n, 3);
  assert.equal(target.listenerCount(), 0);

  const controller = new AbortController();
  target.addEventListener("z", listener, { signal: controller.signal });
  assert.equal(target.listenerCount("z"), 1);
  controller.abort();
  assert.equal(target.listenerCount(), 0);
  target.addEventListener("z", listener, { signal: controller.signal }); // already aborted: not added
  assert.equal(target.listenerCount(), 0);
});

Deno.test("InProcessEventTarget: listeners added or removed during dispatch affect later dispatches only", () => {
  const target = createInProcessEventTarget();
  const calls: string[] = [];
  const late = () => calls.push("late");
  const second = () => calls.push("second");
  target.addEventListener("x", () => {
    calls.push("first");
    target.addEventListener("x", late);
    target.removeEventListener("x", second);
  });
  target.addEventListener("x", second);
  target.dispatchEvent(event("x"));
  assert.deepEqual(calls, ["first", "second"]);
  target.dispatchEvent(event("x"));
  assert.deepEqual(calls, ["first", "second", "first", "late"]);
});

Deno.test("InProcessEventTarget: returns false when the default was prevented", () => {
  const target = createInProcessEventTarget();
  target.addEventListener("x", (e: TypedEvent) => e.preventDefault());
  assert.equal(
    target.dispatchEvent(new CustomEvent("x", { cancelable: true, detail: { type: "t", id: "1", payload: 1 } })),
    false,
  );
});

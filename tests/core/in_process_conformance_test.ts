import { conformance } from "../../testing/mod.ts";
import { createInProcessEventTarget, type InProcessEventTarget } from "../../adapters/in_process/mod.ts";

conformance("in-process", () => {
  const target = createInProcessEventTarget({ onListenerError: () => {} });
  return Promise.resolve({
    a: target,
    b: target,
    listenerCount: (t, topic) => (t as InProcessEventTarget).listenerCount(topic),
    close: () => {},
  });
});

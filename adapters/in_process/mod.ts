/**
 * The in-process adapter: events within one process, the default transport of
 * {@linkcode createPubSub}.
 *
 * @example
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 *
 * const eventTarget = createInProcessEventTarget();
 * const a = createPubSub<{ ping: number }>({ eventTarget });
 * const b = createPubSub<{ ping: number }>({ eventTarget });
 * const sub = b.subscribe("ping", "1");
 * a.publish("ping", "1", 7);
 * console.log((await sub.next()).value); // 7
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */

import { InProcessEventTarget, type InProcessEventTargetOptions } from "../../core/in_process_event_target.ts";

export { InProcessEventTarget, type InProcessEventTargetOptions };

/**
 * Creates an in-process event target. Share one between several
 * `createPubSub` instances to connect them within a process.
 *
 * @param options Error handling for listeners that throw.
 * @returns The target.
 *
 * @example
 * ```ts
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 *
 * const target = createInProcessEventTarget({ onListenerError: (error) => console.warn(error) });
 * console.log(target.listenerCount()); // 0
 * ```
 */
export function createInProcessEventTarget(options?: InProcessEventTargetOptions): InProcessEventTarget {
  return new InProcessEventTarget(options);
}

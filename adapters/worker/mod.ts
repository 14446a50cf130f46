/**
 * The worker adapter: events across Web Workers, a worker's `self`,
 * `MessagePort`s, `BroadcastChannel`s and Node's `worker_threads`, by
 * structured clone. No dependency.
 *
 * @example
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWorkerEventTarget } from "@alkdev/pubsub/worker";
 *
 * const { port1, port2 } = new MessageChannel();
 * const here = createWorkerEventTarget(port1, { closeEndpoint: true });
 * const there = createWorkerEventTarget(port2, { closeEndpoint: true });
 * const sender = createPubSub<{ job: Map<string, number> }>({ eventTarget: here });
 * const receiver = createPubSub<{ job: Map<string, number> }>({ eventTarget: there });
 * const jobs = receiver.subscribe("job", "1");
 * sender.publish("job", "1", new Map([["done", 3]]));
 * console.log((await jobs.next()).value); // Map(1) { "done" => 3 }
 * sender.close();
 * receiver.close();
 * here.close();
 * there.close();
 * ```
 *
 * @module
 */

export {
  createWorkerEventTarget,
  type WorkerCloseDetail,
  WorkerEventTarget,
  type WorkerEventTargetOptions,
  type WorkerLivenessOptions,
} from "./worker_event_target.ts";
export type { NodeMessageEndpoint, WebMessageEndpoint, WorkerEndpoint } from "./endpoint.ts";
export { WorkerCloneError, WorkerError, WorkerPostError } from "./errors.ts";
export { WIRE_TAG } from "./wire.ts";

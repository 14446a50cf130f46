/**
 * A typed publish/subscribe library with one API over many transports.
 *
 * ```ts
 * import { createPubSub, filter, pipe } from "@alkdev/pubsub";
 *
 * type Events = { "job.progress": number };
 * const pubsub = createPubSub<Events>();
 * const done = pipe(pubsub.subscribe("job.progress", "job-1"), filter((p) => p >= 100));
 * pubsub.publish("job.progress", "job-1", 50);
 * pubsub.publish("job.progress", "job-1", 100);
 * for await (const p of done) {
 *   console.log(p); // 100
 *   break;
 * }
 * pubsub.close();
 * ```
 *
 * Transports live in their own exports: `@alkdev/pubsub/in-process`,
 * `/redis`, `/websocket`, `/iroh` and `/worker`.
 *
 * @module
 */

export * from "./core/mod.ts";
export * from "./operators/mod.ts";

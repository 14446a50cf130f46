/**
 * The Redis adapter: an event target over Redis pub/sub (or sharded pub/sub)
 * through [ioredis](https://github.com/redis/ioredis), so that `createPubSub`
 * instances in different processes and machines share events.
 *
 * Wire format, channel naming, delivery guarantees and failure behaviour are
 * described in `docs/architecture/redis.md`. In short: each event is its whole
 * envelope encoded by the codec (JSON by default) on the channel
 * `prefix + topic` (prefix `"alk:events:"` by default); delivery is at most
 * once; invalid messages go to `onError` and never reach listeners.
 *
 * @example
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createRedisEventTarget } from "@alkdev/pubsub/redis";
 *
 * const publishClient = new Redis("redis://127.0.0.1:6379");
 * const subscribeClient = new Redis("redis://127.0.0.1:6379");
 * const eventTarget = createRedisEventTarget({ publishClient, subscribeClient, prefix: "app:events:" });
 * const pubsub = createPubSub<{ "user.updated": { name: string } }>({ eventTarget });
 *
 * const updates = pubsub.subscribe("user.updated", "42");
 * await pubsub.ready("user.updated", "42");
 * pubsub.publish("user.updated", "42", { name: "Ada" });
 * console.log((await updates.next()).value); // { name: "Ada" }
 *
 * pubsub.close();
 * await eventTarget.close();
 * await Promise.all([publishClient.quit(), subscribeClient.quit()]);
 * ```
 *
 * @module
 */

export {
  createRedisEventTarget,
  type RedisClient,
  type RedisConnectionState,
  type RedisErrorContext,
  type RedisEventTarget,
  type RedisEventTargetOptions,
  type RedisStateChange,
} from "./redis_event_target.ts";
export { RedisConnectionError, RedisPublishError, RedisSubscribeError } from "./errors.ts";
export type { RedisStreamsOptions, ScriptClient } from "./streams.ts";

/**
 * The NATS adapter: an event target over NATS core publish/subscribe through
 * a connection of the official client (`@nats-io/transport-node` 3.x, which
 * runs under Node and Deno), so that `createPubSub` instances in different
 * processes and machines share events. The client is typed structurally:
 * importing this module needs no NATS package.
 *
 * Wire format, subject mapping, delivery guarantees and failure behaviour
 * are described in `docs/architecture/nats.md`. In short: each event is its
 * whole envelope encoded by the codec (JSON by default) on the subject
 * `prefix + "." + subjectToken(topic)` (prefix `"alk.events"` by default),
 * one token that is never a wildcard and never another topic's; delivery is
 * at most once; invalid messages go to `onError` and never reach listeners.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createNatsEventTarget } from "@alkdev/pubsub/nats";
 *
 * const connection = await connect({ servers: "127.0.0.1:4222" });
 * const eventTarget = createNatsEventTarget({ connection });
 * const pubsub = createPubSub<{ "user.updated": { name: string } }>({ eventTarget });
 *
 * const updates = pubsub.subscribe("user.updated", "42");
 * await pubsub.ready("user.updated", "42");
 * pubsub.publish("user.updated", "42", { name: "Ada" });
 * console.log((await updates.next()).value); // { name: "Ada" }
 *
 * pubsub.close();
 * await eventTarget.close();
 * await connection.close();
 * ```
 *
 * @module
 */

export {
  createNatsEventTarget,
  type NatsConnectionState,
  type NatsErrorContext,
  type NatsEventTarget,
  type NatsEventTargetOptions,
  type NatsStateChange,
} from "./nats_event_target.ts";
export { NatsConnectionError, NatsLimitError, NatsOperationError } from "./errors.ts";
export { checkSubjectPrefix, subjectToken } from "./subject.ts";
export type { NatsConnectionLike, NatsMessage, NatsStatus, NatsSubscriptionHandle } from "./types.ts";

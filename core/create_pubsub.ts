/**
 * `createPubSub`: typed publish and subscribe over any {@linkcode TypedEventTarget}.
 *
 * @module
 */

import { PubSubClosedError } from "./errors.ts";
import { InProcessEventTarget } from "./in_process_event_target.ts";
import { Subscription, type SubscriptionOptions, type SubscriptionStop } from "./subscription.ts";
import { topicFor } from "./topic.ts";
import {
  CLOSE_EVENT,
  type EnvelopeEvent,
  type EventEnvelope,
  type PubSubEventMap,
  SUBSCRIPTION_ERROR_EVENT,
  type SubscriptionErrorDetail,
  type SubscriptionReadiness,
  type TypedEventTarget,
} from "./types.ts";

/**
 * Options for {@linkcode createPubSub}.
 *
 * @example
 * ```ts
 * import { createPubSub, type PubSubConfig } from "@alkdev/pubsub";
 *
 * const config: PubSubConfig = { subscriptionDefaults: { bufferSize: 256 } };
 * createPubSub<{ ping: number }>(config).close();
 * ```
 */
export interface PubSubConfig {
  /**
   * The transport. Each call to `createPubSub` without one gets its own
   * in-process target.
   *
   * @default {new InProcessEventTarget()}
   */
  eventTarget?: TypedEventTarget<EnvelopeEvent>;
  /** Defaults for every `subscribe` call; per-call options win. */
  subscriptionDefaults?: SubscriptionOptions;
}

/**
 * Typed publish and subscribe. See {@linkcode createPubSub}.
 *
 * @typeParam M The event map: event type to payload type.
 *
 * @example
 * ```ts
 * import { createPubSub, type PubSub } from "@alkdev/pubsub";
 *
 * const pubsub: PubSub<{ ping: number }> = createPubSub();
 * pubsub.close();
 * ```
 */
export interface PubSub<M extends PubSubEventMap> {
  /**
   * Publishes `payload` to subscribers of `(type, id)`. Returns once the
   * transport has taken the event; delivery is asynchronous for network
   * transports.
   *
   * @throws {PubSubClosedError} After `close()`.
   * @throws {TypeError} If `type` or `id` is not a string (or `type` is empty).
   */
  publish<K extends keyof M & string>(type: K, id: string, payload: M[K]): void;
  /**
   * Subscribes to `(type, id)`. Listening starts at once, not at the first
   * `next()`. End it with `break`, `return()`, the `signal`, or `close()`;
   * each removes the listener at once. If the transport dispatches
   * {@linkcode SUBSCRIPTION_ERROR_EVENT} for the topic (a hub refused it), the
   * subscription ends with that error.
   *
   * @throws {PubSubClosedError} After `close()`.
   * @throws {RangeError} If the options are invalid.
   */
  subscribe<K extends keyof M & string>(type: K, id: string, options?: SubscriptionOptions): Subscription<M[K]>;
  /**
   * Settles when subscriptions to `(type, id)` are live on the transport:
   * at once in process, after the SUBSCRIBE round trip on Redis.
   */
  ready<K extends keyof M & string>(type: K, id: string): Promise<void>;
  /**
   * Ends every subscription (each still yields what it had buffered, then
   * finishes) and removes every listener. Does not close the event target,
   * which the caller owns. Idempotent. Happens by itself when the target
   * dispatches {@linkcode CLOSE_EVENT}.
   */
  close(): void;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
}

/**
 * Creates a typed pub/sub over an event target (in-process by default).
 *
 * Topics are built by {@linkcode topicFor}, so no two `(type, id)` pairs share
 * one. Payloads arrive exactly as published (`null`, `undefined`, `0`, `""`
 * and `false` included; in process, by reference). A subscriber receives only
 * what is published after it subscribed.
 *
 * @typeParam M The event map: event type to payload type.
 * @param config The transport and subscription defaults.
 * @returns The pub/sub.
 *
 * @example Subscribe, publish, read
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ "user.updated": { name: string } }>();
 * const updates = pubsub.subscribe("user.updated", "42");
 * pubsub.publish("user.updated", "42", { name: "Ada" });
 * for await (const user of updates) {
 *   console.log(user.name); // "Ada"
 *   break; // removes the listener
 * }
 * pubsub.close();
 * ```
 */
export function createPubSub<M extends PubSubEventMap>(config: PubSubConfig = {}): PubSub<M> {
  const target = config.eventTarget ?? new InProcessEventTarget();
  const defaults = config.subscriptionDefaults;
  // Each live subscription's stop function, with its topic.
  const active = new Map<SubscriptionStop, string>();
  // The same, by topic: a refusal ends one topic's subscriptions without scanning all of them.
  const byTopic = new Map<string, Set<SubscriptionStop>>();
  let closed = false;
  let closedBy = "the pub/sub is closed";

  // The CLOSE_EVENT listener is held only while there are subscriptions, so an idle pub/sub holds no listener.
  const shutdown = (): void => {
    if (closed) return;
    closed = true;
    for (const stop of [...active.keys()]) stop();
  };
  const onTargetClose = (): void => {
    closedBy = "its transport closed";
    shutdown();
  };
  const onSubscriptionError = (event: EnvelopeEvent): void => {
    const detail = (event as unknown as CustomEvent<SubscriptionErrorDetail>).detail;
    if (detail === null || typeof detail !== "object") return;
    const stops = byTopic.get(detail.topic);
    if (stops !== undefined) { for (const stop of [...stops]) stop(detail.error); }
  };

  return {
    publish<K extends keyof M & string>(type: K, id: string, payload: M[K]): void {
      if (closed) throw new PubSubClosedError(`Cannot publish ${JSON.stringify(type)}: ${closedBy}`);
      const detail: EventEnvelope<K, M[K]> = { type, id, payload };
      target.dispatchEvent(new CustomEvent(topicFor(type, id), { detail }) as EnvelopeEvent);
    },

    subscribe<K extends keyof M & string>(type: K, id: string, options?: SubscriptionOptions): Subscription<M[K]> {
      if (closed) throw new PubSubClosedError(`Cannot subscribe to ${JSON.stringify(type)}: ${closedBy}`);
      const topic = topicFor(type, id);
      return new Subscription<M[K]>(
        (push, stop) => {
          const listener = (event: EnvelopeEvent): void => {
            const detail = event.detail;
            if (detail !== null && typeof detail === "object") push(detail.payload as M[K]);
          };
          target.addEventListener(topic, listener);
          if (active.size === 0) {
            target.addEventListener(CLOSE_EVENT, onTargetClose);
            target.addEventListener(SUBSCRIPTION_ERROR_EVENT, onSubscriptionError);
          }
          active.set(stop, topic);
          const stops = byTopic.get(topic);
          if (stops === undefined) byTopic.set(topic, new Set([stop]));
          else stops.add(stop);
          return () => {
            active.delete(stop);
            const stops = byTopic.get(topic);
            if (stops !== undefined && stops.delete(stop) && stops.size === 0) byTopic.delete(topic);
            target.removeEventListener(topic, listener);
            if (active.size === 0) {
              target.removeEventListener(CLOSE_EVENT, onTargetClose);
              target.removeEventListener(SUBSCRIPTION_ERROR_EVENT, onSubscriptionError);
            }
          };
        },
        defaults === undefined ? options : { ...defaults, ...options },
        topic,
      );
    },

    ready<K extends keyof M & string>(type: K, id: string): Promise<void> {
      const topic = topicFor(type, id);
      const readiness = target as Partial<SubscriptionReadiness>;
      return typeof readiness.ready === "function" ? readiness.ready(topic) : Promise.resolve();
    },

    close(): void {
      shutdown();
    },

    get closed(): boolean {
      return closed;
    },
  };
}

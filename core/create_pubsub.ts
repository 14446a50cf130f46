/**
 * `createPubSub`: typed publish and subscribe over any {@linkcode TypedEventTarget}.
 *
 * @module
 */

import { PubSubClosedError, PubSubError } from "./errors.ts";
import { InProcessEventTarget } from "./in_process_event_target.ts";
import { type Checked, checkPayload, PayloadGate, type PubSubSchemas, type SchemasFor } from "./payload_validation.ts";
import {
  Subscription,
  type SubscriptionOptions,
  type SubscriptionPush,
  type SubscriptionStop,
} from "./subscription.ts";
import { liteEvent, takesLiteEvents } from "./lite_event.ts";
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
export interface PubSubConfig<M extends PubSubEventMap = PubSubEventMap> {
  /**
   * The transport. Each call to `createPubSub` without one gets its own
   * in-process target.
   *
   * @default {new InProcessEventTarget()}
   */
  eventTarget?: TypedEventTarget<EnvelopeEvent>;
  /** Defaults for every `subscribe` call; per-call options win. */
  subscriptionDefaults?: SubscriptionOptions;
  /**
   * Standard Schema v1 schemas (zod, valibot, arktype, …) by event type.
   * Every event of such a type that arrives through the event target from
   * elsewhere (another process, thread, spoke or pub/sub) is validated once,
   * before any subscriber sees it, whatever the number of subscribers;
   * subscribers receive the schema's output (a transform applies). An invalid
   * one is dropped and reported to `onError` as a
   * {@linkcode PayloadValidationError}. Events keep their order per topic,
   * also with asynchronous schemas. This pub/sub's own publishes are not
   * validated unless `validateLocal` is set. Without an explicit event map,
   * the map is inferred from the schemas' output types.
   *
   * @default {no validation}
   */
  schemas?: SchemasFor<M>;
  /**
   * Validate this pub/sub's own publishes too: `publish` throws the
   * {@linkcode PayloadValidationError} of an invalid payload (nothing is
   * delivered or sent), and a valid one is published as the schema's output.
   * Needs synchronous schemas (`publish` throws a `TypeError` otherwise). Off
   * by default: the compiler already checks local payloads, and validation
   * costs about as much again as the publish itself (see the README's figures).
   *
   * @default {false}
   */
  validateLocal?: boolean;
  /**
   * The most events of one topic waiting for an asynchronous schema; one more
   * is dropped and reported to `onError` (a `PubSubError` with code
   * `"ERR_VALIDATION_BACKLOG"`).
   *
   * @default {1024}
   */
  maxPendingValidations?: number;
  /**
   * Where invalid remote payloads ({@linkcode PayloadValidationError}) are
   * reported. Never throws into the transport: an `onError` that throws is
   * logged with `console.error`.
   *
   * @default {console.error}
   */
  onError?: (error: PubSubError) => void;
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
   * @throws {PayloadValidationError} With `validateLocal`, if the payload fails its type's schema.
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
 * With `schemas`, events that arrive from elsewhere are validated before
 * any subscriber sees them (see {@linkcode PubSubConfig.schemas}).
 *
 * @typeParam M The event map: event type to payload type. Inferred from
 * `schemas` (their output types) when not given.
 * @param config The transport, subscription defaults, schemas and validation options.
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
 *
 * @example The event map inferred from schemas (zod here; any Standard Schema works)
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { z } from "zod";
 *
 * const pubsub = createPubSub({ schemas: { "job.progress": z.object({ percent: z.number() }) } });
 * const progress = pubsub.subscribe("job.progress", "job-1"); // Subscription<{ percent: number }>
 * pubsub.publish("job.progress", "job-1", { percent: 50 });
 * console.log((await progress.next()).value); // { percent: 50 }
 * pubsub.close();
 * ```
 */
export function createPubSub<M extends PubSubEventMap>(config: PubSubConfig<M> = {}): PubSub<M> {
  const target = config.eventTarget ?? new InProcessEventTarget();
  // A hub takes plain-object events on its own path (core/lite_event.ts): no runtime Event per publish.
  const lite = takesLiteEvents(target);
  const defaults = config.subscriptionDefaults;
  const schemas = config.schemas as PubSubSchemas | undefined;
  const validateLocal = config.validateLocal ?? false;
  const onError = config.onError ?? defaultOnError;
  const gate = schemas === undefined
    ? undefined
    : new PayloadGate<string>(schemas, config.maxPendingValidations ?? 1024);
  // This pub/sub's own publish while the target dispatches it: not validated again on its way back (a transport that
  // brings it back later, as Redis does, gets it validated like any remote event).
  let own: EnvelopeEvent | undefined;
  // Topics of schema-checked types: one target listener each, validating once for every subscriber.
  const fanouts = new Map<string, Fanout>();
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

  const report = (error: PubSubError): void => {
    try {
      onError(error);
    } catch (thrown) {
      console.error("createPubSub: onError threw:", thrown);
    }
  };
  const addChecked = (topic: string, push: SubscriptionPush<unknown>): void => {
    let fanout = fanouts.get(topic);
    if (fanout === undefined) {
      const created: Fanout = {
        pushes: [],
        listener: (event) => {
          const detail = event.detail;
          if (detail !== null && typeof detail === "object") gate!.check(topic, detail, topic, deliver, event === own);
        },
      };
      const deliver = (result: Checked): void => {
        if (result instanceof PubSubError) report(result);
        else for (const each of created.pushes) each(result.value);
      };
      fanouts.set(topic, fanout = created);
      target.addEventListener(topic, created.listener);
    }
    fanout.pushes = [...fanout.pushes, push]; // copied on write: a push during delivery sees the old list
  };
  const removeChecked = (topic: string, push: SubscriptionPush<unknown>): void => {
    const fanout = fanouts.get(topic);
    if (fanout === undefined) return;
    fanout.pushes = fanout.pushes.filter((each) => each !== push);
    if (fanout.pushes.length > 0) return;
    fanouts.delete(topic);
    gate!.forget(topic);
    target.removeEventListener(topic, fanout.listener);
  };

  // The last published (type, id) and its topic: a publisher repeating one topic builds and checks it once, and
  // passes on the same string (its hash computed once for every lookup downstream).
  let lastType: string | undefined;
  let lastId: string | undefined;
  let lastTopic = "";

  return {
    publish<K extends keyof M & string>(type: K, id: string, payload: M[K]): void {
      if (closed) throw new PubSubClosedError(`Cannot publish ${JSON.stringify(type)}: ${closedBy}`);
      let topic: string;
      if (type === lastType && id === lastId) topic = lastTopic;
      else {
        topic = topicFor(type, id);
        lastType = type;
        lastId = id;
        lastTopic = topic;
      }
      const detail: EventEnvelope<K, M[K]> = { type, id, payload };
      const schema = gate?.schemaFor(type);
      if (schema === undefined) {
        target.dispatchEvent(lite ? liteEvent(topic, detail) : new CustomEvent(topic, { detail }) as EnvelopeEvent);
        return;
      }
      if (validateLocal) {
        const checked = checkPayload(schema, topic, payload);
        if (checked instanceof Promise) {
          throw new TypeError(`validateLocal needs a synchronous schema; the one for ${JSON.stringify(type)} is not`);
        }
        if (checked instanceof PubSubError) throw checked;
        detail.payload = checked.value as M[K];
      }
      const event = new CustomEvent(topic, { detail }) as EnvelopeEvent;
      const outer = own;
      own = event;
      try {
        target.dispatchEvent(event);
      } finally {
        own = outer;
      }
    },

    subscribe<K extends keyof M & string>(type: K, id: string, options?: SubscriptionOptions): Subscription<M[K]> {
      if (closed) throw new PubSubClosedError(`Cannot subscribe to ${JSON.stringify(type)}: ${closedBy}`);
      const topic = topicFor(type, id);
      const checked = gate?.schemaFor(type) !== undefined;
      return new Subscription<M[K]>(
        (push, stop) => {
          const listener = (event: EnvelopeEvent): void => {
            const detail = event.detail;
            if (detail !== null && typeof detail === "object") push(detail.payload as M[K]);
          };
          if (checked) addChecked(topic, push as SubscriptionPush<unknown>);
          else target.addEventListener(topic, listener);
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
            if (checked) removeChecked(topic, push as SubscriptionPush<unknown>);
            else target.removeEventListener(topic, listener);
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

/** One target listener for a schema-checked topic and the subscriptions it feeds. */
interface Fanout {
  listener: (event: EnvelopeEvent) => void;
  pushes: SubscriptionPush<unknown>[];
}

function defaultOnError(error: PubSubError): void {
  console.error("createPubSub:", error);
}

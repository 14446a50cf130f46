/**
 * The typed contract every transport implements: the envelope that crosses a
 * boundary, the event map, and the web-standard `EventTarget` shape with
 * types added.
 *
 * @module
 */

/**
 * Maps each event type to the type of its payload.
 *
 * @example Declaring an event map
 * ```ts
 * import type { PubSubEventMap } from "@alkdev/pubsub";
 *
 * interface Events extends PubSubEventMap {
 *   "user.updated": { name: string };
 *   "job.progress": number;
 * }
 * ```
 */
export type PubSubEventMap = Record<string, unknown>;

/**
 * The only shape that crosses a process, thread or network boundary: the event
 * type, the id that scopes it, and the payload exactly as published.
 *
 * @typeParam TType The event type, a key of the event map.
 * @typeParam TPayload The payload type for that event type.
 *
 * @example An envelope
 * ```ts
 * import type { EventEnvelope } from "@alkdev/pubsub";
 *
 * const envelope: EventEnvelope<"user.updated", { name: string }> = {
 *   type: "user.updated",
 *   id: "42",
 *   payload: { name: "Ada" },
 * };
 * ```
 */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  /** The event type. */
  type: TType;
  /** The id that scopes the event, for example a user or job id. */
  id: string;
  /** The payload, delivered as published (`null`, `undefined`, `0`, `""` and `false` included). */
  payload: TPayload;
}

/**
 * An event whose `type` is the topic and whose `detail` is the envelope, as
 * `CustomEvent` carries it.
 *
 * @typeParam TType The event's `type` (a topic string).
 * @typeParam TDetail The event's `detail`.
 *
 * @example Reading an event in a listener
 * ```ts
 * import type { EventEnvelope, TypedEvent } from "@alkdev/pubsub";
 *
 * function onEvent(event: TypedEvent<string, EventEnvelope>): void {
 *   console.log(event.type, event.detail.payload);
 * }
 * onEvent(new CustomEvent("t", { detail: { type: "t", id: "1", payload: 1 } }));
 * ```
 */
export interface TypedEvent<TType extends string = string, TDetail = unknown> extends Event {
  /** The event's type. */
  readonly type: TType;
  /** The event's detail. */
  readonly detail: TDetail;
}

/**
 * A listener function for {@linkcode TypedEvent}s.
 *
 * @typeParam TEvent The event the listener receives.
 *
 * @example A listener
 * ```ts
 * import type { TypedEvent, TypedEventListener } from "@alkdev/pubsub";
 *
 * const listener: TypedEventListener<TypedEvent<"ping", number>> = (event) => {
 *   console.log(event.detail + 1);
 * };
 * ```
 */
export type TypedEventListener<TEvent extends TypedEvent = TypedEvent> = (
  event: TEvent,
) => void;

/**
 * A listener object for {@linkcode TypedEvent}s, as the DOM allows.
 *
 * @typeParam TEvent The event the listener receives.
 *
 * @example A listener object
 * ```ts
 * import type { TypedEvent, TypedEventListenerObject } from "@alkdev/pubsub";
 *
 * const listener: TypedEventListenerObject<TypedEvent<"ping", number>> = {
 *   handleEvent(event) {
 *     console.log(event.detail);
 *   },
 * };
 * ```
 */
export interface TypedEventListenerObject<TEvent extends TypedEvent = TypedEvent> {
  /** Called with each event. */
  handleEvent(event: TEvent): void;
}

/**
 * Either kind of listener.
 *
 * @typeParam TEvent The event the listener receives.
 *
 * @example Accepting either kind
 * ```ts
 * import type { TypedEvent, TypedEventListenerOrEventListenerObject } from "@alkdev/pubsub";
 *
 * function call(l: TypedEventListenerOrEventListenerObject<TypedEvent>, e: TypedEvent): void {
 *   typeof l === "function" ? l(e) : l.handleEvent(e);
 * }
 * ```
 */
export type TypedEventListenerOrEventListenerObject<TEvent extends TypedEvent = TypedEvent> =
  | TypedEventListener<TEvent>
  | TypedEventListenerObject<TEvent>;

/**
 * Options for {@linkcode TypedEventTarget.removeEventListener}: the DOM's
 * `EventListenerOptions`, declared here so the types need no DOM library
 * (Node's types do not declare it globally).
 *
 * @example
 * ```ts
 * import type { ListenerOptions } from "@alkdev/pubsub";
 *
 * const options: ListenerOptions = { capture: false };
 * ```
 */
export interface ListenerOptions {
  /** Matches a listener added with the same `capture`. */
  capture?: boolean;
}

/**
 * Options for {@linkcode TypedEventTarget.addEventListener}: the DOM's
 * `AddEventListenerOptions`, declared here so the types need no DOM library.
 *
 * @example
 * ```ts
 * import type { AddListenerOptions } from "@alkdev/pubsub";
 *
 * const options: AddListenerOptions = { once: true, signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface AddListenerOptions extends ListenerOptions {
  /** Removes the listener after its first call. */
  once?: boolean;
  /** Accepted for compatibility; has no effect on these targets. */
  passive?: boolean;
  /** Removes the listener when aborted. */
  signal?: AbortSignal;
}

/**
 * The adapter contract: the web-standard `EventTarget` shape with types added.
 * A plain `new EventTarget()` satisfies it; each transport in this package
 * implements it.
 *
 * Events are dispatched with `type` set to the topic (see
 * {@linkcode topicFor}) and `detail` set to the {@linkcode EventEnvelope}.
 *
 * @typeParam TEvent The events the target carries.
 *
 * @example Using a plain EventTarget
 * ```ts
 * import { createPubSub, type TypedEventTarget, type TypedEvent } from "@alkdev/pubsub";
 *
 * const target: TypedEventTarget<TypedEvent> = new EventTarget() as TypedEventTarget<TypedEvent>;
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * pubsub.close();
 * ```
 */
export interface TypedEventTarget<TEvent extends TypedEvent = TypedEvent> {
  /** Adds a listener for events of `type`. */
  addEventListener(
    type: TEvent["type"],
    listener: TypedEventListenerOrEventListenerObject<TEvent> | null,
    options?: boolean | AddListenerOptions,
  ): void;
  /** Dispatches `event` to the listeners of `event.type` (and, for a transport, to the peer). */
  dispatchEvent(event: TEvent): boolean;
  /** Removes a listener added with {@linkcode TypedEventTarget.addEventListener}. */
  removeEventListener(
    type: TEvent["type"],
    listener: TypedEventListenerOrEventListenerObject<TEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
}

/**
 * The event every target in this package carries: a topic as `type` and an
 * {@linkcode EventEnvelope} as `detail`.
 *
 * @example Typing a target
 * ```ts
 * import type { EnvelopeEvent, TypedEventTarget } from "@alkdev/pubsub";
 *
 * type Target = TypedEventTarget<EnvelopeEvent>;
 * ```
 */
export type EnvelopeEvent = TypedEvent<string, EventEnvelope>;

/**
 * An optional capability of transports whose subscriptions become live
 * asynchronously (Redis, for example). `ready(topic)` settles once events
 * published to `topic` from elsewhere will be delivered to local listeners.
 *
 * @example Waiting for a subscription to go live
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * const sub = pubsub.subscribe("ping", "1");
 * await pubsub.ready("ping", "1"); // resolves at once in process
 * pubsub.publish("ping", "1", 1);
 * console.log((await sub.next()).value); // 1
 * pubsub.close();
 * ```
 */
export interface SubscriptionReadiness {
  /** Settles when the subscription for `topic` is live; rejects if it cannot become live. */
  ready(topic: string): Promise<void>;
}

/**
 * The event a transport dispatches on itself, at most once, when it is
 * finished for good: closed by its owner, its worker exited, or its connection
 * was lost and will not be re-established. {@linkcode createPubSub} listens for
 * it and ends its subscriptions (each still yields what it had buffered). A
 * transport that reconnects dispatches other events for a passing disconnect.
 * Like every reserved name, it holds no `:` and so never collides with a topic.
 *
 * @example
 * ```ts
 * import { CLOSE_EVENT, createPubSub, InProcessEventTarget } from "@alkdev/pubsub";
 *
 * const eventTarget = new InProcessEventTarget();
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * const sub = pubsub.subscribe("ping", "1");
 * eventTarget.dispatchEvent(new CustomEvent(CLOSE_EVENT, { detail: { reason: "gone" } }) as never);
 * console.log(pubsub.closed, await sub.next()); // true { value: undefined, done: true }
 * ```
 */
export const CLOSE_EVENT = "close";

/**
 * The event a transport dispatches on itself when the subscriptions to one
 * topic cannot go on: a hub refused the topic, for example. Its `detail` is a
 * {@linkcode SubscriptionErrorDetail}. {@linkcode createPubSub} listens for it
 * while it has subscriptions and ends each subscription to `detail.topic`
 * with `detail.error` (its `next()` rejects with it after any buffered
 * events). Other topics are untouched.
 *
 * @example
 * ```ts
 * import { createPubSub, InProcessEventTarget, SUBSCRIPTION_ERROR_EVENT, topicFor } from "@alkdev/pubsub";
 *
 * const eventTarget = new InProcessEventTarget();
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget });
 * const sub = pubsub.subscribe("ping", "1");
 * const error = new Error("refused");
 * const detail = { topic: topicFor("ping", "1"), error };
 * eventTarget.dispatchEvent(new CustomEvent(SUBSCRIPTION_ERROR_EVENT, { detail }) as never);
 * await sub.next().catch((e) => console.log(e === error)); // true
 * ```
 */
export const SUBSCRIPTION_ERROR_EVENT = "subscription-error";

/**
 * The detail of {@linkcode SUBSCRIPTION_ERROR_EVENT}.
 *
 * @example
 * ```ts
 * import { SubscriptionRefusedError, type SubscriptionErrorDetail } from "@alkdev/pubsub";
 *
 * const detail: SubscriptionErrorDetail = {
 *   topic: "secret:1",
 *   error: new SubscriptionRefusedError("secret:1", "forbidden"),
 * };
 * ```
 */
export interface SubscriptionErrorDetail {
  /** The topic whose subscriptions end. */
  topic: string;
  /** The error they end with. */
  error: Error;
}

/**
 * Whether an event name is a topic (it holds a `:`, as every
 * {@linkcode topicFor} result does) rather than a reserved name such as
 * `"close"`.
 *
 * @param name The event name.
 * @returns `true` for a topic.
 *
 * @example
 * ```ts
 * import { isTopic } from "@alkdev/pubsub";
 *
 * console.log(isTopic("job.progress:1"), isTopic("close")); // true false
 * ```
 */
export function isTopic(name: string): boolean {
  return name.indexOf(":") > 0;
}

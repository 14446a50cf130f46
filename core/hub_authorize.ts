/**
 * How a hub decides what its connections may do: the `authorize` hook's
 * types and limits, and `AuthorizeGate`, which runs `authorize` for
 * `HubRouter`:
 *
 * - synchronous or asynchronous answers, each asynchronous call counted
 *   against the connection's `maxAuthorizeInFlight` and bounded by
 *   `authorizeTimeout` (`clear()` cancels the calls running);
 * - a connection's publish decisions remembered per topic (`DecisionCache`);
 * - a connection's publishes acted on in arrival order (`OrderedResults`),
 *   at most `maxPendingPublishes` waiting.
 *
 * It knows nothing of the routing table: what a decided publish becomes
 * (relayed, refused) is the router's, through {@linkcode AuthorizeHost}.
 *
 * @module
 */

import { DecisionCache, type PublishAuthorizationOptions } from "./decision_cache.ts";
import type { RefusalReason } from "./errors.ts";
import { OrderedResults } from "./ordered_results.ts";
import { positiveInteger, positiveNumber } from "./positive.ts";
import type { EventEnvelope } from "./types.ts";

/**
 * What a connection asks to do: receive a topic, or send an event to it.
 *
 * @example
 * ```ts
 * import type { HubAction } from "@alkdev/pubsub";
 *
 * const action: HubAction = "subscribe";
 * ```
 */
export type HubAction = "subscribe" | "publish";

/**
 * The question put to {@linkcode Authorize}.
 *
 * @typeParam TContext What `authenticate` returned for the connection.
 *
 * @example
 * ```ts
 * import type { AuthorizeRequest } from "@alkdev/pubsub";
 *
 * const request: AuthorizeRequest<{ user: string }> = {
 *   action: "subscribe",
 *   type: "job.progress",
 *   id: "job-1",
 *   topic: "job.progress:job-1",
 *   context: { user: "ada" },
 * };
 * ```
 */
export interface AuthorizeRequest<TContext = unknown> {
  /** Subscribe or publish. */
  action: HubAction;
  /** The event type. */
  type: string;
  /** The event id. */
  id: string;
  /** The topic, `topicFor(type, id)`. */
  topic: string;
  /** The connection's context: what `authenticate` returned, or `undefined`. */
  context: TContext | undefined;
}

/**
 * Decides whether a connection may subscribe to, or publish on, a topic.
 * Only `true` (or a promise of `true`) allows; anything else refuses. A throw
 * or a rejection refuses and is reported to the hub's error channel.
 *
 * @typeParam TContext What `authenticate` returned for the connection.
 *
 * @example Users read their own topics; only admins publish
 * ```ts
 * import type { Authorize } from "@alkdev/pubsub";
 *
 * const authorize: Authorize<{ user: string; admin: boolean }> = ({ action, id, context }) =>
 *   action === "subscribe" ? id === context?.user : context?.admin === true;
 * ```
 */
export type Authorize<TContext = unknown> = (request: AuthorizeRequest<TContext>) => boolean | Promise<boolean>;

/**
 * How a hub runs `authorize`: calls run concurrently per connection up to
 * `maxAuthorizeInFlight`, each bounded by `authorizeTimeout`; a connection's
 * publishes are still relayed in arrival order (a publish waits only for
 * the answers of the publishes ahead of it, at most `maxPendingPublishes`);
 * publish decisions are remembered per (connection, topic) unless
 * `publishAuthorization.cache` is `false`.
 *
 * @example A database-backed authorize: two seconds at most, decisions kept for a minute
 * ```ts
 * import type { AuthorizeLimits } from "@alkdev/pubsub";
 *
 * const limits: AuthorizeLimits = { authorizeTimeout: 2_000, publishAuthorization: { ttl: 60_000 } };
 * ```
 */
export interface AuthorizeLimits {
  /**
   * The most publishes of one connection waiting for an asynchronous
   * `authorize` (their own answer or an answer for an earlier publish, since
   * each connection's publishes are relayed in arrival order); more are
   * refused with `"forbidden"` until it catches up.
   *
   * @default {1024}
   */
  maxPendingPublishes?: number;
  /**
   * The most asynchronous `authorize` calls (subscribes and publishes) one
   * connection may have running at once. Calls run concurrently up to it; a
   * call counts until it settles or times out, whatever the connection does
   * meanwhile (an `unsub`, a re-`sub`, closing). A subscribe or publish that
   * needs a call past it is refused with `"unavailable"`.
   *
   * @default {1024}
   */
  maxAuthorizeInFlight?: number;
  /**
   * Milliseconds an asynchronous `authorize` call may take. Past it the
   * subscribe or publish is refused with `"unavailable"`, a
   * {@linkcode SubscriptionRefusedError} or {@linkcode PublishRefusedError}
   * (its cause says the call timed out) is reported to `onError`, the call
   * stops counting against `maxAuthorizeInFlight`, and its late answer is
   * ignored.
   *
   * @default {10000}
   */
  authorizeTimeout?: number;
  /**
   * Whether, and how long, `authorize`'s answers for publishes are
   * remembered per (connection, topic).
   *
   * @default {{ cache: true, ttl: Infinity, maxTopics: 4096 }}
   */
  publishAuthorization?: PublishAuthorizationOptions;
}

const DEFAULT_MAX_PENDING_PUBLISHES = 1024;
const DEFAULT_MAX_AUTHORIZE_IN_FLIGHT = 1024;
const DEFAULT_AUTHORIZE_TIMEOUT = 10_000;
const DEFAULT_MAX_PUBLISH_DECISIONS = 4096;

/**
 * Called with a decision; `message` is set when the hub refused without an
 * answer (over the cap, timed out), which refuses with `"unavailable"`.
 *
 * @internal
 */
export type Decided = (allowed: boolean, cause?: unknown, message?: string) => void;

/**
 * One connection's authorization state, as {@linkcode AuthorizeGate} reads
 * and updates it. The router's per-connection state carries these fields
 * itself, so a connection stays one object.
 *
 * @typeParam TContext The connection context type.
 *
 * @internal
 */
export interface ConnectionAuthorization<TContext> {
  /** What `authenticate` returned for the connection. */
  readonly context: TContext | undefined;
  /** Asynchronous `authorize` calls running (until they settle or time out, even after an unsub or a detach). */
  inFlight: number;
  /** Publishes waiting for an answer, theirs or one ahead of them, in arrival order; created on first use. */
  publishes: OrderedResults | undefined;
  /** Remembered publish decisions per topic; `undefined` with `publishAuthorization.cache: false` or before the first. */
  decisions: DecisionCache<string> | undefined;
}

/**
 * What {@linkcode AuthorizeGate} needs of its router: what a connection's
 * decided publish becomes. One object per router, so deciding a publish
 * allocates nothing for it.
 *
 * @typeParam P The connection type.
 * @typeParam F The encoded frame type.
 *
 * @internal
 */
export interface AuthorizeHost<P, F> {
  /** Whether `state` is still `peer`'s: an answer that arrives after the connection left is dropped. */
  live(peer: P, state: ConnectionAuthorization<unknown>): boolean;
  /** Relays an allowed publish. */
  relay(peer: P, topic: string, envelope: EventEnvelope, frame: F): void;
  /** Refuses a publish. */
  refuse(peer: P, topic: string, reason: RefusalReason, message?: string, cause?: unknown): void;
  /** Where a throwing `relay` or `refuse` of a publish that waited goes. */
  onError(error: unknown): void;
}

/**
 * Runs a hub's `authorize` under its {@linkcode AuthorizeLimits}: for
 * subscribes ({@linkcode AuthorizeGate.decide}) and for publishes, in each
 * connection's arrival order ({@linkcode AuthorizeGate.publish}).
 *
 * @typeParam P The connection type.
 * @typeParam F The encoded frame type.
 * @typeParam TContext The connection context type.
 *
 * @internal
 */
export class AuthorizeGate<P, F, TContext> {
  /** The hook; `undefined`: everything is allowed. */
  readonly authorize: Authorize<TContext> | undefined;
  #host: AuthorizeHost<P, F>;
  #maxPending: number;
  #maxInFlight: number;
  #authorizeTimeout: number;
  #decisions: { ttl: number; max: number } | undefined;
  /** Cancels each asynchronous `authorize` call running (its timer), for `clear()`. */
  #calls = new Set<() => void>();
  /** Where a throwing relay of any connection's ordered publishes goes: one function for every connection. */
  #onPublishError: (error: unknown) => void;

  /**
   * Checks the limits.
   *
   * @param authorize The hook. @default {everything is allowed}
   * @param limits The limits and the publish decision cache.
   * @param host What a decided publish becomes.
   * @throws {RangeError} If a limit is not positive (or, for the counts, not an integer).
   */
  constructor(authorize: Authorize<TContext> | undefined, limits: AuthorizeLimits, host: AuthorizeHost<P, F>) {
    this.authorize = authorize;
    this.#host = host;
    this.#onPublishError = host.onError;
    this.#maxPending = positiveInteger(
      "maxPendingPublishes",
      limits.maxPendingPublishes ?? DEFAULT_MAX_PENDING_PUBLISHES,
    );
    this.#maxInFlight = positiveInteger(
      "maxAuthorizeInFlight",
      limits.maxAuthorizeInFlight ?? DEFAULT_MAX_AUTHORIZE_IN_FLIGHT,
    );
    this.#authorizeTimeout = positiveNumber("authorizeTimeout", limits.authorizeTimeout ?? DEFAULT_AUTHORIZE_TIMEOUT);
    const publishAuthorization = limits.publishAuthorization ?? {};
    if (publishAuthorization.cache !== false) {
      this.#decisions = {
        ttl: positiveNumber("publishAuthorization.ttl", publishAuthorization.ttl ?? Infinity),
        max: positiveInteger(
          "publishAuthorization.maxTopics",
          publishAuthorization.maxTopics ?? DEFAULT_MAX_PUBLISH_DECISIONS,
        ),
      };
    }
  }

  /** Asynchronous `authorize` calls running now, over every connection. */
  get authorizing(): number {
    return this.#calls.size;
  }

  /**
   * Decides a connection's publish on `topic`, with `authorize` set: at once
   * from a remembered decision when no earlier publish of the connection
   * waits, otherwise in arrival order behind them (refused with
   * `"forbidden"` when `maxPendingPublishes` already wait). The host relays
   * or refuses it.
   */
  publish(peer: P, state: ConnectionAuthorization<TContext>, topic: string, envelope: EventEnvelope, frame: F): void {
    const host = this.#host;
    const known = state.decisions?.get(topic);
    if (known !== undefined && (state.publishes === undefined || state.publishes.length === 0)) {
      if (known) host.relay(peer, topic, envelope, frame);
      else host.refuse(peer, topic, "forbidden");
      return;
    }
    const publishes = state.publishes ??= new OrderedResults(this.#onPublishError);
    if (publishes.length >= this.#maxPending) {
      host.refuse(peer, topic, "forbidden", `More than ${this.#maxPending} publishes wait for authorize`);
      return;
    }
    // Each publish waits only for the answers of the publishes ahead of it; their calls run concurrently.
    const slot = publishes.reserve();
    const then = (allowed: boolean, cause?: unknown, message?: string) =>
      slot.settle(() => {
        if (!host.live(peer, state)) return;
        if (allowed) host.relay(peer, topic, envelope, frame);
        else host.refuse(peer, topic, message === undefined ? "forbidden" : "unavailable", message, cause);
      });
    if (known !== undefined) then(known);
    else this.decide("publish", envelope.type, envelope.id, topic, state, then);
  }

  /**
   * Puts a subscribe or publish of a connection to `authorize` (allowed at
   * once without it); a publish's answer is remembered per topic unless
   * `publishAuthorization.cache` is `false`.
   */
  decide(
    action: HubAction,
    type: string,
    id: string,
    topic: string,
    state: ConnectionAuthorization<TContext>,
    then: Decided,
  ): void {
    const authorize = this.authorize;
    if (authorize === undefined) {
      then(true);
      return;
    }
    const request: AuthorizeRequest<TContext> = { action, type, id, topic, context: state.context };
    const decisions = action === "publish" && this.#decisions !== undefined
      ? state.decisions ??= new DecisionCache<string>(this.#decisions.ttl, this.#decisions.max)
      : undefined;
    if (decisions === undefined) {
      this.#call(authorize, request, state, then);
      return;
    }
    // One question per (connection, topic): later publishes on the topic share its answer.
    if (!decisions.wait(topic, then)) return;
    this.#call(authorize, request, state, (allowed, cause, message) => {
      decisions.resolve(topic, allowed, cause === undefined && message === undefined, cause, message);
    });
  }

  /** Cancels every asynchronous `authorize` call running: its timer stops and its answer is ignored. */
  clear(): void {
    for (const cancel of [...this.#calls]) cancel();
  }

  /**
   * Calls `authorize` once. An asynchronous call counts against the
   * connection's `maxAuthorizeInFlight` until it settles or times out;
   * `message` is set when the hub refuses without an answer (over the cap,
   * timed out), which refuses with `"unavailable"`.
   */
  #call(
    authorize: Authorize<TContext>,
    request: AuthorizeRequest<TContext>,
    state: ConnectionAuthorization<TContext>,
    then: Decided,
  ): void {
    if (state.inFlight >= this.#maxInFlight) {
      then(false, undefined, `More than ${this.#maxInFlight} authorize calls of the connection are running`);
      return;
    }
    let answer: boolean | Promise<boolean>;
    try {
      answer = authorize(request);
    } catch (cause) {
      then(false, cause);
      return;
    }
    if (typeof answer === "boolean" || answer === null || typeof (answer as Promise<boolean>)?.then !== "function") {
      then(answer === true);
      return;
    }
    state.inFlight++;
    let done = false;
    const cancel = () => {
      done = true;
      clearTimeout(timer);
      state.inFlight--;
      this.#calls.delete(cancel);
    };
    this.#calls.add(cancel);
    const settle = (allowed: boolean, cause?: unknown, message?: string) => {
      if (done) return;
      cancel();
      then(allowed, cause, message);
    };
    const timeout = this.#authorizeTimeout;
    const timer = setTimeout(() => {
      const message = `authorize did not answer within ${timeout} ms`;
      settle(false, new Error(`${message} (${request.action} ${JSON.stringify(request.topic)})`), message);
    }, timeout);
    Promise.resolve(answer).then(
      (allowed) => settle(allowed === true),
      (cause) => settle(false, cause ?? new Error("authorize rejected")),
    );
  }
}

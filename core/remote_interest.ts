/**
 * `RemoteInterest`: the spoke side of a routed hub. It keeps the set of
 * topics the spoke's local listeners want, announces each to the hub once per
 * connection, and tracks the hub's answers so `ready(topic)` can wait for them.
 * Shared by every spoke transport (WebSocket, iroh).
 *
 * @module
 */

import {
  PublishRefusedError,
  PubSubClosedError,
  type PubSubError,
  type RefusalReason,
  SubscriptionRefusedError,
} from "./errors.ts";
import type { SubscribedInfo } from "./hub_history.ts";
import type { HubAction } from "./hub_authorize.ts";
import { SubscriptionGapError } from "./subscription_gap.ts";
import type { StreamPosition } from "./topic_history.ts";
import type { SubscriptionErrorDetail } from "./types.ts";

/**
 * Where a {@linkcode RemoteInterest} sends its announcements: the current
 * open connection.
 *
 * @example
 * ```ts
 * import type { InterestChannel } from "@alkdev/pubsub";
 *
 * const channel: InterestChannel = {
 *   subscribe: (topic, rid) => console.log("sub", topic, rid),
 *   unsubscribe: (topic) => console.log("unsub", topic),
 * };
 * ```
 */
export interface InterestChannel {
  /**
   * The hub granted stream positions on this connection (the `"recover"`
   * feature): subscribes carry the position to resume from.
   */
  readonly recover?: boolean;
  /**
   * Sends a subscribe request for `topic`. `rid` numbers the requests (a
   * non-negative safe integer, new for every request); a channel whose hub
   * echoes it sends it in the `sub`, and passes the echoed id to
   * {@linkcode RemoteInterest.acked} and {@linkcode RemoteInterest.refusal}.
   * `since`, on a `recover` channel, asks to resume after that position.
   */
  subscribe(topic: string, rid: number, since?: StreamPosition): void;
  /** Sends an unsubscribe for `topic`. */
  unsubscribe(topic: string): void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface TopicState {
  /** The hub answered `subscribed` on the current connection. */
  acked: boolean;
  /** The hub refused it on the current connection; it is asked again on the next. */
  refused: boolean;
  /** The refusal, while `refused`: later `ready` calls reject with it. */
  error: SubscriptionRefusedError | undefined;
  /** The request id of the latest subscribe request sent for it. */
  rid: number;
  waiters: Waiter[];
  /** The last stream position received for the topic, kept across connections. */
  position?: StreamPosition;
}

/**
 * The topics a spoke wants, and what the hub answered for each on the
 * current connection. The transport calls `want`/`unwant` as the first local
 * listener of a topic comes and the last goes, `connected` when a connection
 * is open (before flushing its outbox, so the subscriptions go first),
 * `disconnected` when it drops, and `acked`/`refused` with the hub's answers.
 * Each subscribe request gets a new request id; an answer carrying the id of
 * an earlier request (say, one sent before an unsubscribe and a quick
 * re-subscribe) is stale and ignored.
 *
 * @example
 * ```ts
 * import { RemoteInterest } from "@alkdev/pubsub";
 *
 * const interest = new RemoteInterest();
 * interest.want("ping:1"); // no connection yet: sent on connect
 * const sent: string[] = [];
 * interest.connected({ subscribe: (t) => sent.push(t), unsubscribe: () => {} });
 * console.log(sent); // ["ping:1"]
 * const ready = interest.ready("ping:1");
 * interest.acked("ping:1");
 * await ready; // the hub now sends ping:1
 * ```
 */
export class RemoteInterest {
  #topics = new Map<string, TopicState>();
  #channel: InterestChannel | undefined;
  #openWaiters: Waiter[] = [];
  #closed: Error | undefined;
  #nextRid = 0;

  /** The number of topics wanted. */
  get size(): number {
    return this.#topics.size;
  }

  /**
   * A topic got its first local listener: announce it now if connected.
   *
   * @param topic The topic.
   */
  want(topic: string): void {
    if (this.#closed !== undefined || this.#topics.has(topic)) return;
    const state: TopicState = { acked: false, refused: false, error: undefined, rid: this.#rid(), waiters: [] };
    this.#topics.set(topic, state);
    this.#channel?.subscribe(topic, state.rid);
  }

  /**
   * A topic lost its last local listener: withdraw it. Waiting `ready` calls
   * for it resolve (nothing is left to wait for).
   *
   * @param topic The topic.
   */
  unwant(topic: string): void {
    const state = this.#topics.get(topic);
    if (state === undefined) return;
    this.#topics.delete(topic);
    for (const waiter of state.waiters) waiter.resolve();
    if (!state.refused) this.#channel?.unsubscribe(topic);
  }

  /**
   * A connection is open: announce every wanted topic on it, then wake
   * `ready` calls that waited for a connection.
   *
   * @param channel The connection.
   */
  connected(channel: InterestChannel): void {
    if (this.#closed !== undefined) return;
    this.#channel = channel;
    for (const [topic, state] of this.#topics) {
      state.acked = false;
      state.refused = false;
      state.error = undefined;
      state.rid = this.#rid();
      channel.subscribe(topic, state.rid, channel.recover === true ? state.position : undefined);
    }
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** The connection dropped: every answer is void until the next one. */
  disconnected(): void {
    this.#channel = undefined;
    for (const state of this.#topics.values()) state.acked = false;
  }

  /** A new request id; wraps to 0 after the largest safe integer. */
  #rid(): number {
    const rid = this.#nextRid;
    this.#nextRid = rid === Number.MAX_SAFE_INTEGER ? 0 : rid + 1;
    return rid;
  }

  /**
   * The hub answered that `topic` is live on this connection, with the
   * stream position when it grants positions.
   *
   * @param topic The topic.
   * @param rid The request id the answer echoed, if any; an answer to an earlier request is ignored.
   * @param info The hub's position info (epoch, offset, loss), if any.
   * @returns The gap to report once, if the first answer on this connection
   *   says events the spoke had been receiving were lost.
   */
  acked(topic: string, rid?: number, info?: SubscribedInfo): SubscriptionGapError | undefined {
    const state = this.#topics.get(topic);
    if (state === undefined || this.#channel === undefined) return undefined;
    if (rid !== undefined && rid !== state.rid) return undefined;
    let gap: SubscriptionGapError | undefined;
    if (!state.acked && state.position !== undefined) {
      if (info === undefined) gap = new SubscriptionGapError(topic, "no-history", null);
      else if (info.missed === null || (info.missed === undefined && info.epoch !== state.position.epoch)) {
        gap = new SubscriptionGapError(topic, "epoch-changed", null);
      } else if (info.missed !== undefined) gap = new SubscriptionGapError(topic, "too-old", info.missed);
    }
    if (!state.acked || info !== undefined) {
      state.position = info === undefined ? undefined : { epoch: info.epoch, offset: info.offset };
    }
    state.acked = true;
    const waiters = state.waiters;
    state.waiters = [];
    for (const waiter of waiters) waiter.resolve();
    return gap;
  }

  /**
   * An event of `topic` arrived at `position` (a positioned data frame), or
   * the hub told the position of an event the spoke sent itself.
   *
   * @param topic The topic.
   * @param position Its position.
   */
  delivered(topic: string, position: StreamPosition): void {
    const state = this.#topics.get(topic);
    if (state !== undefined) state.position = position;
  }

  /**
   * The hub refused `topic`: waiting `ready` calls reject with `error`. The
   * topic stays wanted (no unsubscribe is sent) and is asked for again on
   * the next connection if its listeners are still there.
   *
   * @param topic The topic.
   * @param error The refusal.
   * @param rid The request id the refusal echoed, if any.
   * @returns Whether the refusal is current (one for a withdrawn topic, or for an earlier request, is stale).
   */
  refused(topic: string, error: SubscriptionRefusedError, rid?: number): boolean {
    const state = this.#topics.get(topic);
    if (state === undefined || (rid !== undefined && rid !== state.rid)) return false;
    state.refused = true;
    state.error = error;
    state.acked = false;
    const waiters = state.waiters;
    state.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    return true;
  }

  /**
   * Handles a hub's refusal answer. A refused publish becomes a
   * {@linkcode PublishRefusedError} to report. A refused subscribe becomes a
   * {@linkcode SubscriptionRefusedError}, marks the topic refused (see
   * {@linkcode RemoteInterest.refused}) and comes with the detail of the
   * `SUBSCRIPTION_ERROR_EVENT` the spoke dispatches; nothing, if the topic
   * was withdrawn meanwhile.
   *
   * @param action What was refused.
   * @param topic The topic.
   * @param reason Why.
   * @param message The hub's message.
   * @param rid The request id a refused subscribe echoed, if any.
   * @returns The error to report and, for a subscribe, the event detail; `undefined` for a stale refusal.
   */
  refusal(
    action: HubAction,
    topic: string,
    reason: RefusalReason,
    message: string,
    rid?: number,
  ): { error: PubSubError; subscriptionError?: SubscriptionErrorDetail } | undefined {
    if (action === "publish") return { error: new PublishRefusedError(topic, reason, message) };
    const error = new SubscriptionRefusedError(topic, reason, message);
    if (!this.refused(topic, error, rid)) return undefined;
    return { error, subscriptionError: { topic, error } };
  }

  /**
   * Settles once `topic` is live: the hub acknowledged it on the current
   * connection. For a topic not wanted, once a connection is open. Rejects if
   * the hub refuses it (also when asked after the refusal, until the next
   * connection asks again) or `close` is called first.
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const state = this.#topics.get(topic);
    if (state === undefined) {
      if (this.#channel !== undefined) return Promise.resolve();
      return new Promise((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    }
    if (state.acked) return Promise.resolve();
    if (state.error !== undefined) return Promise.reject(state.error);
    return new Promise((resolve, reject) => state.waiters.push({ resolve, reject }));
  }

  /**
   * Ends for good: every waiting and later `ready` rejects with `error`.
   *
   * @param error The reason. @default {PubSubClosedError}
   */
  close(error: Error = new PubSubClosedError("The connection is closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = error;
    this.#channel = undefined;
    const waiters = [...this.#openWaiters];
    this.#openWaiters = [];
    for (const state of this.#topics.values()) waiters.push(...state.waiters);
    this.#topics.clear();
    for (const waiter of waiters) waiter.reject(error);
  }
}

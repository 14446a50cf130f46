/**
 * Gap reports: what a spoke tells its user when a reconnect (or a failover to
 * another hub) could not recover everything its subscriptions to a topic
 * missed. See docs/architecture/hub.md#delivery-guarantees.
 *
 * @module
 */

import { PubSubError } from "./errors.ts";

/**
 * Why a gap could not be filled: `"too-old"` (the hub's history no longer
 * holds the missed events: past its `size`, bytes or `ttl`), `"epoch-changed"`
 * (the topic's history stream is not the one the spoke knew: the hub
 * restarted without a shared store, or dropped the stream), `"no-history"`
 * (the hub the spoke reconnected to keeps no history).
 *
 * @example
 * ```ts
 * import type { GapReason } from "@alkdev/pubsub";
 *
 * const reason: GapReason = "too-old";
 * ```
 */
export type GapReason = "too-old" | "epoch-changed" | "no-history";

/**
 * Events of a topic were lost across a reconnect and could not be replayed.
 * Reported once per gap, in a {@linkcode SUBSCRIPTION_GAP_EVENT}; the
 * subscriptions go on with the events that follow. `missed` is the number
 * lost when the hub knows it, else `null`.
 *
 * @example
 * ```ts
 * import { SubscriptionGapError } from "@alkdev/pubsub";
 *
 * const error = new SubscriptionGapError("chat:room-1", "too-old", 12);
 * console.log(error.code, error.topic, error.missed); // "ERR_SUBSCRIPTION_GAP" "chat:room-1" 12
 * ```
 */
export class SubscriptionGapError extends PubSubError {
  /** The topic. */
  readonly topic: string;
  /** Why the events could not be recovered. */
  readonly reason: GapReason;
  /** How many events were lost, or `null` if unknown. */
  readonly missed: number | null;

  /**
   * Constructs a new instance.
   *
   * @param topic The topic.
   * @param reason Why the events could not be recovered.
   * @param missed How many were lost, or `null`.
   */
  constructor(topic: string, reason: GapReason, missed: number | null) {
    super(
      "ERR_SUBSCRIPTION_GAP",
      `Lost ${missed === null ? "an unknown number of" : missed} events of ${JSON.stringify(topic)} (${reason})`,
    );
    this.name = "SubscriptionGapError";
    this.topic = topic;
    this.reason = reason;
    this.missed = missed;
  }
}

/**
 * The event a spoke dispatches on itself, once per gap, when it resubscribed
 * to a topic after a drop and the hub could not replay everything it missed.
 * Its `detail` is a {@linkcode SubscriptionGapDetail}. Subscriptions are not
 * ended: the events after the gap follow. Refetch from your own store here.
 *
 * @example Refetch on a gap
 * ```ts ignore
 * import { SUBSCRIPTION_GAP_EVENT, type SubscriptionGapDetail } from "@alkdev/pubsub";
 *
 * spoke.addEventListener(SUBSCRIPTION_GAP_EVENT, (event) => {
 *   const { topic, error } = (event as unknown as CustomEvent<SubscriptionGapDetail>).detail;
 *   console.warn(error.message);
 *   void reloadFromDatabase(topic);
 * });
 * ```
 */
export const SUBSCRIPTION_GAP_EVENT = "subscription-gap";

/**
 * The detail of {@linkcode SUBSCRIPTION_GAP_EVENT}.
 *
 * @example
 * ```ts
 * import { SubscriptionGapError, type SubscriptionGapDetail } from "@alkdev/pubsub";
 *
 * const detail: SubscriptionGapDetail = { topic: "t:1", error: new SubscriptionGapError("t:1", "too-old", 3) };
 * ```
 */
export interface SubscriptionGapDetail {
  /** The topic. */
  topic: string;
  /** What was lost. */
  error: SubscriptionGapError;
}

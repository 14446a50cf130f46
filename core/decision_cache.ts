/**
 * `DecisionCache`: one connection's remembered `authorize` answers per
 * topic, with the calls still pending for a topic shared by every frame that
 * needs the answer.
 *
 * @module
 */

/**
 * Remembers yes/no decisions per key for `ttl` milliseconds, at most `max`
 * of them (the oldest is forgotten first), and lets several askers share one
 * pending question: the first {@linkcode DecisionCache.wait} for a key
 * returns `true` (ask), later ones join it until
 * {@linkcode DecisionCache.resolve} answers them all.
 *
 * @typeParam K The key (a topic).
 *
 * @example
 * ```ts
 * import { DecisionCache } from "@alkdev/pubsub";
 *
 * const cache = new DecisionCache<string>(60_000, 100);
 * const answers: boolean[] = [];
 * console.log(cache.wait("a:1", (allowed) => answers.push(allowed))); // true: ask authorize
 * console.log(cache.wait("a:1", (allowed) => answers.push(allowed))); // false: joined the pending question
 * cache.resolve("a:1", true, true);
 * console.log(answers, cache.get("a:1")); // [true, true] true
 * cache.clear();
 * console.log(cache.get("a:1")); // undefined
 * ```
 */
export class DecisionCache<K> {
  /** How long a decision is kept, in milliseconds. */
  readonly ttl: number;
  /** The most decisions kept. */
  readonly max: number;
  #decisions = new Map<K, { allowed: boolean; at: number }>();
  #pending = new Map<K, ((allowed: boolean, cause?: unknown, message?: string) => void)[]>();
  #now: () => number;

  /**
   * Constructs an empty cache.
   *
   * @param ttl Milliseconds a decision is kept; `Infinity` for as long as the cache lives.
   * @param max The most decisions kept.
   * @param now The clock in milliseconds. @default {performance.now}
   */
  constructor(ttl: number, max: number, now: () => number = performanceNow) {
    this.ttl = ttl;
    this.max = max;
    this.#now = now;
  }

  /** Decisions kept (expired ones included until looked up). */
  get size(): number {
    return this.#decisions.size;
  }

  /**
   * The decision for `key`, if one is kept and has not expired.
   *
   * @param key The key.
   * @returns `true` or `false`, or `undefined` if unknown.
   */
  get(key: K): boolean | undefined {
    const decision = this.#decisions.get(key);
    if (decision === undefined) return undefined;
    if (this.#now() - decision.at >= this.ttl) {
      this.#decisions.delete(key);
      return undefined;
    }
    return decision.allowed;
  }

  /**
   * Waits for the pending decision on `key`.
   *
   * @param key The key.
   * @param then Called with the decision (and, for a failed one, its cause and message).
   * @returns `true` if no question was pending: the caller asks and then calls {@linkcode DecisionCache.resolve}.
   */
  wait(key: K, then: (allowed: boolean, cause?: unknown, message?: string) => void): boolean {
    const waiting = this.#pending.get(key);
    if (waiting !== undefined) {
      waiting.push(then);
      return false;
    }
    this.#pending.set(key, [then]);
    return true;
  }

  /**
   * Answers everyone waiting on `key`, and keeps the decision if `keep`.
   *
   * @param key The key.
   * @param allowed The decision.
   * @param keep Whether to remember it (a thrown or timed-out call is not remembered).
   * @param cause Why a failed call refused.
   * @param message What the hub says about a refusal it made without an answer.
   */
  resolve(key: K, allowed: boolean, keep: boolean, cause?: unknown, message?: string): void {
    const waiting = this.#pending.get(key);
    this.#pending.delete(key);
    if (keep) {
      this.#decisions.delete(key);
      if (this.#decisions.size >= this.max) this.#decisions.delete(this.#decisions.keys().next().value as K);
      this.#decisions.set(key, { allowed, at: this.#now() });
    }
    if (waiting !== undefined) { for (const then of waiting) then(allowed, cause, message); }
  }

  /**
   * Forgets kept decisions (pending questions still get their answer, which
   * is kept as usual).
   *
   * @param match Which keys to forget. @default {every key}
   */
  clear(match?: (key: K) => boolean): void {
    if (match === undefined) {
      this.#decisions.clear();
      return;
    }
    for (const key of [...this.#decisions.keys()]) if (match(key)) this.#decisions.delete(key);
  }
}

/**
 * How a hub remembers its `authorize` answers for publishes, like
 * Centrifugo's publish permission: by default `authorize` is asked once per
 * (connection, topic) for `"publish"`, and the answer (allow or refuse)
 * stands for that connection's later publishes on the topic while the
 * connection lives, until `ttl` passes or the hub's
 * `clearPublishDecisions()` forgets it. Publishes on a topic whose question
 * is still pending wait for that one answer instead of asking again. A
 * throwing, rejecting or timed-out `authorize` is not remembered. With
 * `cache: false` every published event is put to `authorize`.
 *
 * @example Ask again every minute
 * ```ts
 * import type { PublishAuthorizationOptions } from "@alkdev/pubsub";
 *
 * const publishAuthorization: PublishAuthorizationOptions = { ttl: 60_000 };
 * ```
 */
export interface PublishAuthorizationOptions {
  /**
   * Remember each (connection, topic) publish decision; `false` asks
   * `authorize` for every published event.
   *
   * @default {true}
   */
  cache?: boolean;
  /**
   * Milliseconds a decision is kept.
   *
   * @default {Infinity (while the connection lives)}
   */
  ttl?: number;
  /**
   * The most topics whose decision one connection keeps; the oldest is
   * forgotten (and asked again when next needed).
   *
   * @default {4096}
   */
  maxTopics?: number;
}

/** The default clock, one function for every cache. */
function performanceNow(): number {
  return performance.now();
}

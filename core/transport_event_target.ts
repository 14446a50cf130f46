/**
 * `TransportEventTarget`: the local side every network adapter shares.
 *
 * @module
 */

/**
 * The most remote events delivered in one synchronous run (one socket chunk,
 * one batched message) before the rest wait for the next event-loop turn.
 * Below the default subscription buffer (1024), so a consumer that keeps up
 * gets a turn to drain its buffer between slices.
 *
 * @example
 * ```ts
 * import { REMOTE_SLICE } from "@alkdev/pubsub";
 *
 * console.log(REMOTE_SLICE); // 256
 * ```
 */
export const REMOTE_SLICE = 256;

/**
 * The most remote events waiting for a later turn. A transport without
 * backpressure (Redis) that keeps outrunning the slices would otherwise grow
 * the backlog without bound: at this size the whole backlog is delivered at
 * once, and each subscription's own `bufferSize`/`overflow` applies.
 *
 * @example
 * ```ts
 * import { REMOTE_BACKLOG } from "@alkdev/pubsub";
 *
 * console.log(REMOTE_BACKLOG); // 65536
 * ```
 */
export const REMOTE_BACKLOG = 65_536;

import { nextTurn } from "./next_turn.ts";
import { InProcessEventTarget, type InProcessEventTargetOptions } from "./in_process_event_target.ts";
import {
  type AddListenerOptions,
  CLOSE_EVENT,
  type EnvelopeEvent,
  isTopic,
  type ListenerOptions,
  type TypedEventListenerOrEventListenerObject,
  type TypedEventTarget,
} from "./types.ts";

/**
 * The base of a transport's event target. It owns an
 * {@linkcode InProcessEventTarget} for the local side: listeners are added to
 * and removed from it, counted by `listenerCount`, and called (their errors
 * reported to `onListenerError`) by `dispatchLocal` and `emit`. A subclass
 * implements `dispatchEvent` (deliver locally and send) and emits its reserved,
 * non-topic state events with `emit`, the terminal one with `emitClose`.
 *
 * @example A transport that only loops back
 * ```ts
 * import { type EnvelopeEvent, TransportEventTarget } from "@alkdev/pubsub";
 *
 * class Loopback extends TransportEventTarget {
 *   dispatchEvent(event: EnvelopeEvent): boolean {
 *     return this.dispatchLocal(event);
 *   }
 *   close(): void {
 *     this.emitClose({ reason: "closed" });
 *   }
 * }
 * const target = new Loopback();
 * target.addEventListener("close", () => console.log("closed"));
 * target.close(); // "closed"
 * target.close(); // nothing: "close" is dispatched once
 * ```
 */
export abstract class TransportEventTarget implements TypedEventTarget<EnvelopeEvent> {
  #options: InProcessEventTargetOptions;
  #local: InProcessEventTarget<EnvelopeEvent>;
  #closeEvent: EnvelopeEvent | undefined;
  /** Whether the close event has been dispatched (it waits for the backlog). */
  #closeDispatched = false;
  /** Remote events waiting for a later turn, from `#backlogHead` on. */
  #backlog: (EnvelopeEvent | undefined)[] = [];
  #backlogHead = 0;
  /** Remote events delivered in the current synchronous run. */
  #turn = 0;
  /** Cancels the macrotask that drains the backlog; present while the backlog is not empty. */
  #cancelDrain: (() => void) | undefined;
  #drainWaiters: (() => void)[] = [];

  /**
   * Creates the local target.
   *
   * @param options The local target's options (`onListenerError`).
   *
   * @example
   * ```ts
   * import { type EnvelopeEvent, TransportEventTarget } from "@alkdev/pubsub";
   *
   * class Quiet extends TransportEventTarget {
   *   constructor() {
   *     super({ onListenerError: () => {} });
   *   }
   *   dispatchEvent(event: EnvelopeEvent): boolean {
   *     return this.dispatchLocal(event);
   *   }
   * }
   * new Quiet();
   * ```
   */
  constructor(options: InProcessEventTargetOptions = {}) {
    this.#options = { onListenerError: options.onListenerError };
    this.#local = new InProcessEventTarget<EnvelopeEvent>(this.#options);
  }

  /**
   * Adds a local listener for a topic or a reserved, non-topic name. A
   * `"close"` listener added after the target closed is called once, in a
   * microtask, with the original close event (so a pub/sub created over a
   * finished target ends its subscriptions instead of waiting forever).
   */
  addEventListener(
    type: string,
    listener: TypedEventListenerOrEventListenerObject<EnvelopeEvent> | null,
    options?: boolean | AddListenerOptions,
  ): void {
    const closeEvent = this.#closeEvent;
    if (type === CLOSE_EVENT && closeEvent !== undefined && this.#closeDispatched) {
      if (listener !== null) {
        const late = new InProcessEventTarget<EnvelopeEvent>(this.#options);
        late.addEventListener(CLOSE_EVENT, listener, options);
        queueMicrotask(() => late.dispatchEvent(closeEvent));
      }
      return;
    }
    if (this.onTopicInterest === undefined || !isTopic(type)) {
      this.#local.addEventListener(type, listener, options);
      return;
    }
    const before = this.#local.listenerCount(type);
    this.#local.addEventListener(type, listener, options);
    if (this.#local.listenerCount(type) === before) return; // a duplicate, or an aborted signal
    const signal = typeof options === "object" && options !== null ? options.signal : undefined;
    if (signal !== undefined) this.#watchAbort(signal, type);
    if (before === 0 && !this.#interested.has(type)) {
      this.#interested.add(type);
      this.onTopicInterest(type, true);
    }
  }

  // Topics reported as interested by onTopicInterest, so each change is reported once.
  #interested = new Set<string>();

  // One abort hook per (signal, topic), so a long-lived signal reused across many listeners collects no hooks.
  #abortHooks = new WeakMap<AbortSignal, Set<string>>();

  #watchAbort(signal: AbortSignal, topic: string): void {
    let topics = this.#abortHooks.get(signal);
    if (topics === undefined) this.#abortHooks.set(signal, topics = new Set());
    if (topics.has(topic)) return;
    topics.add(topic);
    // After every listener's own abort hook (some may be registered after this one) has removed it.
    signal.addEventListener("abort", () => queueMicrotask(() => this.#checkInterest(topic)), { once: true });
  }

  #checkInterest(topic: string): void {
    if (this.#local.listenerCount(topic) === 0 && this.#interested.delete(topic)) this.onTopicInterest?.(topic, false);
  }

  /** Removes a local listener. */
  removeEventListener(
    type: string,
    listener: TypedEventListenerOrEventListenerObject<EnvelopeEvent> | null,
    options?: boolean | ListenerOptions,
  ): void {
    if (this.onTopicInterest === undefined || !isTopic(type)) {
      this.#local.removeEventListener(type, listener, options);
      return;
    }
    this.#local.removeEventListener(type, listener, options);
    this.#checkInterest(type);
  }

  /**
   * Called, when a subclass defines it, as a topic gains its first local
   * listener (`interested` is `true`) and as it loses its last one (`false`),
   * whether by `removeEventListener`, an aborted `signal` or a `once`
   * listener that has run. Reserved, non-topic names are not reported. A
   * network adapter announces its interest to the remote side here.
   *
   * @param topic The topic.
   * @param interested Whether the topic now has listeners.
   *
   * @example
   * ```ts ignore
   * protected override onTopicInterest(topic: string, interested: boolean): void {
   *   this.#send(interested ? ["sub", topic] : ["unsub", topic]);
   * }
   * ```
   */
  protected onTopicInterest?(topic: string, interested: boolean): void;

  /** Delivers `event` to local listeners and sends its envelope over the transport. */
  abstract dispatchEvent(event: EnvelopeEvent): boolean;

  /**
   * Counts local listeners, for one topic (or reserved name) or all.
   *
   * @param topic The topic; all when omitted.
   * @returns The number of listeners.
   */
  listenerCount(topic?: string): number {
    return this.#local.listenerCount(topic);
  }

  /**
   * Whether {@linkcode TransportEventTarget.emitClose} has dispatched `"close"`.
   *
   * @example
   * ```ts ignore
   * if (this.closeEmitted) return; // finished for good
   * ```
   */
  protected get closeEmitted(): boolean {
    return this.#closeEvent !== undefined;
  }

  /**
   * Delivers `event` to local listeners only.
   *
   * @param event The event.
   * @returns `!event.defaultPrevented`.
   *
   * @example
   * ```ts ignore
   * this.dispatchLocal(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
   * ```
   */
  protected dispatchLocal(event: EnvelopeEvent): boolean {
    const result = this.#local.dispatchEvent(event);
    // A `once` listener that has run may have been the topic's last.
    if (this.onTopicInterest !== undefined && this.#interested.has(event.type)) this.#checkInterest(event.type);
    return result;
  }

  /**
   * Delivers an event that came from the remote side to local listeners,
   * paced: at most {@linkcode REMOTE_SLICE} such events per synchronous run.
   * The rest wait, in order, for the next event-loop turn (a macrotask), so
   * the consumers of a burst that arrived in one chunk get turns to drain
   * their buffers. Events keep their order; `"close"` from
   * {@linkcode TransportEventTarget.emitClose} comes after them.
   *
   * @param event The event.
   *
   * @example
   * ```ts ignore
   * this.deliverRemote(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
   * ```
   */
  protected deliverRemote(event: EnvelopeEvent): void {
    if (this.#backlogHead === this.#backlog.length && this.#turn < REMOTE_SLICE) {
      if (this.#turn++ === 0) queueMicrotask(this.#endTurn);
      this.dispatchLocal(event);
      return;
    }
    this.#backlog.push(event);
    if (this.#backlog.length - this.#backlogHead >= REMOTE_BACKLOG) {
      this.#deliverBacklog(this.#backlog.length);
      this.#clearBacklog();
      return;
    }
    this.#cancelDrain ??= nextTurn(this.#drain);
  }

  /**
   * Resolves once every remote event waiting for a later turn has been
   * delivered (or discarded by {@linkcode TransportEventTarget.dropListeners});
   * `undefined` when none waits. A reader that awaits it before reading more
   * pushes back on the sender instead of holding a growing backlog.
   *
   * @returns The promise, or `undefined`.
   *
   * @example
   * ```ts ignore
   * const drained = this.remoteBacklog();
   * if (drained !== undefined) await drained;
   * ```
   */
  protected remoteBacklog(): Promise<void> | undefined {
    if (this.#cancelDrain === undefined) return undefined;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #endTurn = (): void => {
    this.#turn = 0;
  };

  #drain = (): void => {
    this.#cancelDrain = noop;
    const backlog = this.#backlog;
    // Deliveries in this run count against the slice; new ones queue behind the backlog meanwhile.
    this.#turn = REMOTE_SLICE;
    queueMicrotask(this.#endTurn);
    this.#deliverBacklog(Math.min(backlog.length, this.#backlogHead + REMOTE_SLICE));
    if (this.#backlogHead < backlog.length) {
      if (this.#backlogHead > 4096 && this.#backlogHead * 2 > backlog.length) {
        this.#backlog = backlog.slice(this.#backlogHead);
        this.#backlogHead = 0;
      }
      this.#cancelDrain = nextTurn(this.#drain);
      return;
    }
    this.#clearBacklog();
  };

  /** Delivers the backlog up to (not including) index `end`. */
  #deliverBacklog(end: number): void {
    const backlog = this.#backlog;
    while (this.#backlogHead < end) {
      const event = backlog[this.#backlogHead]!;
      backlog[this.#backlogHead++] = undefined;
      this.dispatchLocal(event);
    }
  }

  /** Empties the backlog, stops the drain, wakes the waiters and dispatches a waiting "close". */
  #clearBacklog(): void {
    this.#backlog = [];
    this.#backlogHead = 0;
    const cancel = this.#cancelDrain;
    this.#cancelDrain = undefined;
    cancel?.();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.#closeEvent !== undefined && !this.#closeDispatched) {
      this.#closeDispatched = true;
      this.#local.dispatchEvent(this.#closeEvent);
    }
  }

  /**
   * Dispatches a reserved, non-topic event (`"open"`, `"error"`, ...) to local
   * listeners: a `CustomEvent` of `type` with `detail`.
   *
   * @param type The reserved name (without `:`).
   * @param detail The event's detail.
   *
   * @example
   * ```ts ignore
   * this.emit("error", error);
   * ```
   */
  protected emit(type: string, detail?: unknown): void {
    // No event without a listener: a hub emits two per connection, and a runtime event is not free (Bun's is native).
    if (this.#local.listenerCount(type) === 0) return;
    this.#local.dispatchEvent(new CustomEvent(type, { detail }) as unknown as EnvelopeEvent);
  }

  /**
   * Dispatches the terminal `"close"` event (`CLOSE_EVENT`) with `detail`, at
   * most once: later calls do nothing. Remote events still waiting in the
   * backlog (see {@linkcode TransportEventTarget.deliverRemote}) are delivered
   * first, so `"close"` may come a few turns later.
   *
   * @param detail The event's detail.
   * @returns Whether this call dispatched it.
   *
   * @example
   * ```ts ignore
   * this.emitClose({ code: 1000, reason: "" });
   * ```
   */
  protected emitClose(detail?: unknown): boolean {
    if (this.#closeEvent !== undefined) return false;
    const event = new CustomEvent(CLOSE_EVENT, { detail }) as unknown as EnvelopeEvent;
    this.#closeEvent = event;
    if (this.#cancelDrain !== undefined) return true; // dispatched once the backlog has drained
    this.#closeDispatched = true;
    this.#local.dispatchEvent(event);
    return true;
  }

  /**
   * Drops every local listener (a fresh local target replaces the old one),
   * after discarding the remote backlog and dispatching a `"close"` that was
   * waiting for it.
   *
   * @example
   * ```ts ignore
   * this.dropListeners(); // on close()
   * ```
   */
  protected dropListeners(): void {
    this.#interested.clear();
    this.#backlog = [];
    this.#backlogHead = 0;
    this.#clearBacklog();
    this.#local = new InProcessEventTarget<EnvelopeEvent>(this.#options);
  }
}

function noop(): void {}

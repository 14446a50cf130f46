/**
 * `TransportEventTarget`: the local side every network adapter shares.
 *
 * @module
 */

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
    if (type === CLOSE_EVENT && closeEvent !== undefined) {
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
    this.#local.dispatchEvent(new CustomEvent(type, { detail }) as unknown as EnvelopeEvent);
  }

  /**
   * Dispatches the terminal `"close"` event (`CLOSE_EVENT`) with `detail`, at
   * most once: later calls do nothing.
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
    this.#local.dispatchEvent(event);
    return true;
  }

  /**
   * Drops every local listener (a fresh local target replaces the old one).
   *
   * @example
   * ```ts ignore
   * this.dropListeners(); // on close()
   * ```
   */
  protected dropListeners(): void {
    this.#interested.clear();
    this.#local = new InProcessEventTarget<EnvelopeEvent>(this.#options);
  }
}

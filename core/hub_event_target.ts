/**
 * `HubEventTarget`: the event-target side every hub transport shares (the
 * WebSocket hub, the iroh hub). It owns the {@linkcode HubRouter}, the
 * connection set and the counters, and implements `dispatchEvent`, `ready`,
 * `stats` and the local-interest hook; a transport adds how it accepts,
 * frames and closes connections.
 *
 * @module
 */

import type { PubSubError } from "./errors.ts";
import { type HubPeer, HubRouter, type HubRouterOptions } from "./hub_router.ts";
import type { FrameCounters, HubStats } from "./hub_stats.ts";
import type { InProcessEventTargetOptions } from "./in_process_event_target.ts";
import { LITE_EVENTS, realEvent } from "./lite_event.ts";
import { TransportEventTarget } from "./transport_event_target.ts";
import { type EnvelopeEvent, isTopic, type SubscriptionReadiness } from "./types.ts";

/**
 * A hub transport's encoded frame: text or bytes.
 *
 * @example
 * ```ts
 * import type { HubFrame } from "@alkdev/pubsub";
 *
 * const frame: HubFrame = '{"type":"ping","id":"1","payload":1}';
 * ```
 */
export type HubFrame = string | Uint8Array;

/**
 * What a hub transport passes to {@linkcode HubEventTarget}'s constructor:
 * the router's options, less the parts the base class supplies.
 *
 * @typeParam TContext The connection context type.
 *
 * @example
 * ```ts
 * import type { HubEventTargetOptions } from "@alkdev/pubsub";
 *
 * const options: HubEventTargetOptions = {
 *   encode: (envelope) => JSON.stringify(envelope),
 *   maxTopicLength: 256,
 * };
 * ```
 */
export interface HubEventTargetOptions<TContext = unknown>
  extends Omit<HubRouterOptions<HubFrame, TContext>, "deliverLocal" | "onError">, InProcessEventTargetOptions {
  /**
   * Deliver events to the hub's own listeners in paced slices
   * (`deliverRemote`), for a transport whose connections hand over many
   * frames in one read; otherwise at once.
   *
   * @default {false}
   */
  paced?: boolean;
}

/**
 * The base class of a hub transport's event target. A subclass encodes
 * frames (`encodeFrame`), reports errors (`reportError`), and calls
 * `connectionOpened`/`connectionClosed` as connections come and go; the
 * router (`this.router`) does the routing.
 *
 * @typeParam TContext The connection context type.
 *
 * @example A hub whose "connections" are callbacks
 * ```ts
 * import { type EnvelopeEvent, HubEventTarget, type HubFrame, type HubPeer, type PubSubError } from "@alkdev/pubsub";
 *
 * class CallbackHub extends HubEventTarget {
 *   constructor() {
 *     super({ encode: (envelope) => JSON.stringify(envelope) });
 *   }
 *   protected encodeFrame(event: EnvelopeEvent): string {
 *     return JSON.stringify(event.detail);
 *   }
 *   protected reportError(error: PubSubError): void {
 *     console.error(error);
 *   }
 *   add(peer: HubPeer<HubFrame>): void {
 *     this.connectionOpened(peer);
 *     this.router.attach(peer);
 *   }
 * }
 * const hub = new CallbackHub();
 * hub.add({ sendData: (frame) => console.log(frame), subscribed: () => {}, refused: () => {} });
 * console.log(hub.stats().connections); // 1
 * ```
 */
export abstract class HubEventTarget<TContext = unknown> extends TransportEventTarget implements SubscriptionReadiness {
  /** The routing table, authorization and upstream. */
  protected readonly router: HubRouter<HubFrame, TContext>;
  /** Frame and byte counters the transport's connections add to. */
  protected readonly counters: FrameCounters = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, dropped: 0 };
  #accepted = 0;
  #disconnects = 0;

  /**
   * Creates the router.
   *
   * @param options The router's options, `paced` and `onListenerError`.
   */
  constructor(options: HubEventTargetOptions<TContext>) {
    super(options);
    const paced = options.paced ?? false;
    this.router = new HubRouter<HubFrame, TContext>({
      ...options,
      deliverLocal: paced ? (event) => this.deliverRemote(event) : (event) => this.dispatchLocal(event),
      onError: (error) => this.reportError(error),
      fanOut: this.fanOut === undefined
        ? undefined
        : (topic, frame, except, recipients) => this.fanOut!(topic, frame, except, recipients),
    });
  }

  /** The number of connections not yet closed. */
  get connections(): number {
    return this.router.size;
  }

  /** Connections accepted and not yet closed (the router counts them: one entry per connection). */
  protected get live(): IterableIterator<HubPeer<HubFrame>> {
    return this.router.peers;
  }

  /**
   * Delivers `event` to local listeners and sends its envelope to every
   * connection subscribed to its topic. With an `upstream`, it is published
   * there and delivered when it comes back.
   *
   * @throws Whatever `encodeFrame` throws (an invalid envelope, a frame over the size limit); nothing is delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    if (!isTopic(event.type)) return this.dispatchLocal(realEvent(event));
    this.router.publish(event, this.encodeFrame(event));
    return !event.defaultPrevented;
  }

  /**
   * Settles once the hub's local listeners for `topic` are live: at once
   * without an upstream, after the upstream's own `ready` with one.
   *
   * @param topic The topic.
   */
  ready(topic: string): Promise<void> {
    return this.router.ready(topic);
  }

  /**
   * The hub's counters: connections, topics, subscriptions, frames and bytes
   * each way, drops and refusals.
   *
   * @returns A snapshot.
   */
  stats(): HubStats {
    return {
      connections: this.router.size,
      accepted: this.#accepted,
      disconnects: this.#disconnects,
      ...this.router.stats(),
      ...this.counters,
    };
  }

  /**
   * Counts a new connection (before its handshake).
   *
   * @param connection The connection.
   *
   * @example
   * ```ts ignore
   * this.connectionOpened(connection);
   * ```
   */
  protected connectionOpened(connection: HubPeer<HubFrame>): void {
    this.#accepted++;
    this.router.add(connection);
  }

  /**
   * Forgets remembered publish decisions (see `publishAuthorization`), so
   * the next publish on each matching topic asks `authorize` again. Call it
   * when permissions change.
   *
   * @param match Which (context, topic) decisions to forget. @default {all of them}
   *
   * @example A user lost the right to publish on job topics
   * ```ts ignore
   * hub.clearPublishDecisions((context, topic) => context?.user === "ada" && topic.startsWith("job."));
   * ```
   */
  clearPublishDecisions(match?: (context: TContext | undefined, topic: string) => boolean): void {
    this.router.clearPublishDecisions(match);
  }

  /**
   * Removes a closed connection from the router and the connection set.
   *
   * @param connection The connection.
   * @returns Whether it was still counted (so its `"disconnect"` is due).
   *
   * @example
   * ```ts ignore
   * if (this.connectionClosed(connection)) this.emit("disconnect", { connection, info });
   * ```
   */
  protected connectionClosed(connection: HubPeer<HubFrame>): boolean {
    if (!this.router.detach(connection)) return false;
    this.#disconnects++;
    return true;
  }

  /** Counts the hub's own listeners per topic, so the upstream is listened on while they want it. */
  protected override onTopicInterest(topic: string, interested: boolean): void {
    if (interested) this.router.addLocal(topic);
    else this.router.removeLocal(topic);
  }

  /**
   * Encodes an outgoing event as a data frame, checking it.
   *
   * @param event The event.
   * @returns The frame.
   */
  protected abstract encodeFrame(event: EnvelopeEvent): HubFrame;

  /**
   * Optional: sends one frame to every connection subscribed to `topic`
   * except `except`, through the runtime's own pub/sub (see
   * `HubRouterOptions.fanOut`). A transport that defines it subscribes each
   * connection natively in its `subscribed` and unsubscribes it in
   * `unsubscribed`.
   *
   * @param topic The topic.
   * @param frame The encoded frame.
   * @param except The connection that sent the event, if it is subscribed.
   * @param recipients How many connections should receive it.
   */
  protected fanOut?(topic: string, frame: HubFrame, except: HubPeer<HubFrame> | undefined, recipients: number): void;

  /**
   * Reports an error through the transport's error channel.
   *
   * @param error The error.
   */
  protected abstract reportError(error: PubSubError): void;
}

// The router reads only an event's type and detail until it leaves for listeners or an upstream: `createPubSub`
// publishes lite events here (core/lite_event.ts). A subclass overriding dispatchEvent gets real ones.
Object.defineProperty(HubEventTarget.prototype.dispatchEvent, LITE_EVENTS, { value: true });

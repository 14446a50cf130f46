/**
 * The counters every hub and spoke transport reports from `stats()`, so a
 * WebSocket hub and an iroh hub (and their spokes) graph alike.
 *
 * @module
 */

import type { HubRouterStats } from "./hub_router.ts";

/**
 * Frames and bytes through a transport's connections. A transport documents
 * how it counts bytes (prefixes, UTF-16 code units for text).
 *
 * @example
 * ```ts
 * import type { FrameCounters } from "@alkdev/pubsub";
 *
 * const counters: FrameCounters = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, dropped: 0 };
 * ```
 */
export interface FrameCounters {
  /** Frames received, data and control. */
  framesIn: number;
  /** Bytes received. */
  bytesIn: number;
  /** Frames sent, data and control. */
  framesOut: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Frames (or events) not sent: the transport's drop policy, or a full outbox. */
  dropped: number;
}

/**
 * A hub's `stats()`: the router's counters, connections, and frames.
 *
 * @example
 * ```ts ignore
 * setInterval(() => {
 *   const { connections, topics, framesOut, dropped } = hub.stats();
 *   console.log({ connections, topics, framesOut, dropped });
 * }, 10_000);
 * ```
 */
export interface HubStats extends HubRouterStats, FrameCounters {
  /** Connections not yet closed (handshake included). */
  connections: number;
  /** Connections accepted since the hub started. */
  accepted: number;
  /** Connections closed since the hub started. */
  disconnects: number;
}

/**
 * A reconnecting spoke's `stats()`.
 *
 * @example
 * ```ts ignore
 * console.log(spoke.stats().reconnects);
 * ```
 */
export interface SpokeStats extends FrameCounters {
  /** Connections opened after the first one. */
  reconnects: number;
  /** Topics the spoke's listeners want (announced to the hub). */
  topics: number;
}

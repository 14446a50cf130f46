/**
 * The WebSocket adapter: a hub that serves spokes, and a reconnecting spoke,
 * over any standard WebSocket (Deno, browsers, and `ws` on Node). No runtime
 * dependency.
 *
 * - {@linkcode createWebSocketHub}: one event target over every accepted
 *   connection (publish to all spokes, receive from any, relay between them).
 * - {@linkcode connectWebSocketEventTarget}: dials the hub, reconnects with
 *   jittered backoff, keeps its listeners and a bounded outbox across drops.
 * - {@linkcode createWebSocketEventTarget}: one event target over one socket.
 *
 * Each target dispatches the reserved event `"close"` once, when it is
 * finished for good (its own `close()`, a spoke's final refusal or last
 * attempt, a single socket's close); a pub/sub over it then ends its
 * subscriptions. Passing drops are `"disconnect"` events (per connection on
 * the hub, and on a spoke that will reconnect).
 *
 * Each frame carries one envelope as JSON text; JSON-array text frames carry
 * the handshake and heartbeat. See docs/architecture/websocket.md for frames,
 * close codes, limits and backpressure.
 *
 * @example A hub and a spoke
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { connectWebSocketEventTarget, createWebSocketHub } from "@alkdev/pubsub/websocket";
 *
 * type Events = { "job.progress": number };
 *
 * const hub = createWebSocketHub<Request>();
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0 }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   hub.accept(socket, request);
 *   return response;
 * });
 * const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${server.addr.port}`);
 *
 * const atHub = createPubSub<Events>({ eventTarget: hub });
 * const atSpoke = createPubSub<Events>({ eventTarget: spoke });
 * const progress = atSpoke.subscribe("job.progress", "job-1");
 * await atSpoke.ready("job.progress", "job-1");
 * atHub.publish("job.progress", "job-1", 50);
 * console.log((await progress.next()).value); // 50
 * ```
 *
 * @module
 */

export { CloseCode, isFinalCloseCode } from "./close_codes.ts";
export {
  WebSocketBackpressureError,
  WebSocketHandshakeError,
  WebSocketHeartbeatError,
  WebSocketOutboxOverflowError,
  WebSocketProtocolError,
  WebSocketRateLimitError,
} from "./errors.ts";
export type { WebSocketConnectionState } from "./link.ts";
export type {
  Authenticate,
  BackpressurePolicy,
  HeartbeatOptions,
  WebSocketAcceptOptions,
  WebSocketCloseInfo,
  WebSocketCommonOptions,
  WebSocketPeerLimits,
} from "./options.ts";
export type { WebSocketConstructorLike, WebSocketEventLike, WebSocketLike } from "./socket.ts";
export {
  createWebSocketEventTarget,
  WebSocketEventTarget,
  type WebSocketEventTargetOptions,
} from "./websocket_event_target.ts";
export {
  createWebSocketHub,
  WebSocketHub,
  type WebSocketHubConnection,
  type WebSocketHubEventDetail,
  type WebSocketHubOptions,
  type WebSocketHubStats,
} from "./hub.ts";
export {
  type BackoffOptions,
  connectWebSocketEventTarget,
  type WebSocketReconnectingDetail,
  WebSocketSpoke,
  type WebSocketSpokeOptions,
  type WebSocketSpokeState,
  type WebSocketSpokeStats,
  type WebSocketSpokeUrl,
} from "./spoke.ts";

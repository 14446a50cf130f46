/**
 * The hub's test bodies, one set for every server runtime. Each body runs against a hub in a child process
 * (runtime_hub.ts): the Deno hub from source (tests/websocket/hub_test.ts, the websocket group), the Node and Bun hubs
 * from the npm package (tests/runtimes/hub_test.ts, the bun group). Deliveries are counted at each spoke's socket.
 *
 * - hub_routing.ts: routing by interest at the wire, limits, a socket that never reads;
 * - hub_authorize.ts: authenticate and the authorization matrix, the authorize pipeline;
 * - hub_upstream.ts: two hub processes over one Redis, and their failover.
 */

import { hubAuthorizeTests } from "./hub_authorize.ts";
import { hubRoutingTests } from "./hub_routing.ts";
import { hubUpstreamTests } from "./hub_upstream.ts";
import type { Runtime } from "./runtime_hub.ts";

/** Registers every shared hub test body against the `runtime` hub; `ignore` skips them all. */
export function hubTests(runtime: Runtime, ignore = false): void {
  hubRoutingTests(runtime, ignore);
  hubAuthorizeTests(runtime, ignore);
  hubUpstreamTests(runtime, ignore);
}

/**
 * The hub test bodies every runtime shares (hub.ts) against the npm package's hub on Node (`ws`'s
 * WebSocketServer + createWebSocketHub) and Bun (`Bun.serve` + createBunWebSocketHub, native fan-out), each in a child
 * process. The Deno hub runs them in the websocket group (tests/websocket/hub_test.ts).
 */

import { hubTests } from "./hub.ts";
import { SCRATCH } from "./runtime_hub.ts";

for (const runtime of ["node", "bun"] as const) hubTests(runtime, SCRATCH === undefined);

/**
 * The hub test bodies every runtime shares (tests/runtimes/hub.ts) against the Deno hub, run from
 * this checkout's source in a child process. The Node and Bun hubs run the same bodies in the bun group
 * (tests/runtimes/hub_test.ts).
 */

import { hubTests } from "../runtimes/hub.ts";

hubTests("deno");

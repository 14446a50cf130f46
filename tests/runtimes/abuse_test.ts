/** The abuse tests of tests/websocket/abuse.ts against the Bun hub (`Bun.serve`, native fan-out). */

import { abuseTests } from "../websocket/abuse.ts";
import { SCRATCH } from "./runtime_hub.ts";

abuseTests("bun", "bun hub abuse", SCRATCH === undefined);

/** The abuse tests (abuse.ts) against the Deno hub. */

import { abuseTests } from "./abuse.ts";

abuseTests("deno", "websocket abuse");

/** The iroh hub of fixtures/abuse_hub.ts in its own process, and dialing it from this one. */

import { type Child, denoChild } from "../child.ts";
import { ALPN, type Connection, type Endpoint, iroh } from "./load_iroh.ts";

/** Where the child's hub listens, as it prints it. */
export interface HubAddress {
  id: string;
  addrs: string[];
}

/** Starts fixtures/abuse_hub.ts with `args`, with the iroh group's own permissions, and waits for its address. */
export async function startChildHub(args: string[] = []): Promise<{ child: Child; address: HubAddress }> {
  const child = denoChild(new URL("./fixtures/abuse_hub.ts", import.meta.url), args, [
    "--allow-ffi",
    "--allow-read=.,/usr/bin/ldd",
    "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI",
  ]);
  const address = await child.next((l) => "id" in l, 20_000, "hub address") as unknown as HubAddress;
  return { child, address };
}

/** Dials the child's hub from `endpoint`. */
export function dial(endpoint: Endpoint, hub: HubAddress): Promise<Connection> {
  return endpoint.connect(new iroh!.EndpointAddr(iroh!.EndpointId.fromString(hub.id), null, hub.addrs), ALPN);
}

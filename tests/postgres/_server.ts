/**
 * A private PostgreSQL server for the tests that kill or restart it: `initdb` into a temporary directory and
 * `pg_ctl start` on a free loopback port with trust authentication. PostgreSQL refuses to run as root, so as root
 * every command runs through `runuser -u postgres`.
 */

import { freePort } from "../_util.ts";

/** Where the PostgreSQL server binaries are (`PG_BIN`, else the Debian path of PostgreSQL 15). */
export const PG_BIN: string = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

/** A private server: its URL, and start/stop/restart. */
export interface PrivateServer {
  url: string;
  port: number;
  /** Starts the server (again) on the same port and data directory, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it at once (`pg_ctl stop -m immediate`: every connection dies). */
  stop(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return Deno.uid() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

async function run(cmd: string, args: string[]): Promise<string> {
  const [c, a] = asPostgres(cmd, args);
  const { code, stdout, stderr } = await new Deno.Command(c, { args: a, stdout: "piped", stderr: "piped" }).output();
  const out = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${new TextDecoder().decode(stderr)}${out}`);
  }
  return out;
}

/** Starts a private server on a free port. */
export async function privateServer(): Promise<PrivateServer> {
  const dir = (await run("mktemp", ["-d", "/tmp/alk-pg-XXXXXX"])).trim();
  const data = `${dir}/data`;
  await run(`${PG_BIN}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  let port = freePort();
  const server: PrivateServer = {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    async start() {
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=50`;
      await run(`${PG_BIN}/pg_ctl`, ["-D", data, "-o", options, "-l", `${dir}/log`, "-w", "-t", "30", "start"]);
    },
    async stop() {
      await run(`${PG_BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    },
    async destroy() {
      await server.stop();
      await run("rm", ["-rf", dir]);
    },
  };
  for (let attempt = 1;; attempt++) {
    try {
      await server.start();
      return server;
    } catch (error) {
      if (attempt === 3) {
        await run("rm", ["-rf", dir]).catch(() => {});
        throw error;
      }
      port = freePort(); // taken meanwhile
    }
  }
}

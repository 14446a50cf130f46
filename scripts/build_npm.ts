/**
 * `deno task build:npm`: builds the npm package from the Deno source with
 * `deno pack`, then checks it.
 *
 * Output: `npm/package/` (the package root: ESM `.js` + `.d.ts` for every
 * export in deno.json, under the same subpaths) and the tarball
 * `npm/<name>-<version>.tgz` (e.g. `npm/alkdev-pubsub-0.1.0.tgz`).
 * `npm/checks.txt` keeps the publint and attw output.
 *
 * Steps:
 * 1. `deno pack` (type-checked, fast-check `.d.ts`, no source maps).
 * 2. Post-process `package.json` only where `deno pack` falls short: the
 *    dependency policy below (ioredis an optional peer dependency), `engines`,
 *    `description`; add README.md; drop files no export reaches.
 * 3. Fail if: the exports differ from deno.json's, a file an export names is
 *    missing, a `.js`/`.d.ts` imports something that is neither a file in the
 *    package, a `node:` builtin nor a declared (peer) dependency, or the code
 *    uses an API Node 20 lacks.
 * 4. `npm pack`, then `publint --strict` and `attw --pack --profile esm-only`
 *    (from tools/node_modules); both must be clean.
 *
 * Permissions: `--allow-run --allow-read --allow-write=npm,.tmp --allow-env`.
 */

import { createRequire } from "node:module";

const root = new URL("..", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const npmDir = `${rootPath}npm`;
const packageDir = `${npmDir}/package`;
const workDir = `${rootPath}.tmp/npm-build`;
const bin = (name: string) => `${rootPath}tools/node_modules/.bin/${name}`;

/** Minimum Node.js version the package supports (`engines.node`). */
export const NODE_ENGINE = ">=20";

/**
 * What each npm package the output may import becomes in package.json.
 * Anything else the output imports fails the build.
 * - "dependency": always a dependency.
 * - "optional-peer": always an optional peer dependency (the user installs it
 *   when they use the adapter), whether or not the output imports it.
 * - "optional-peer-if-used": an optional peer dependency only if imported.
 */
const dependencyPolicy: Record<string, "dependency" | "optional-peer" | "optional-peer-if-used"> = {
  "@repeaterjs/repeater": "dependency",
  "ioredis": "optional-peer",
  "ws": "optional-peer-if-used",
  // Never imported (the NATS adapter types the client structurally); listed so npm shows the supported range.
  "@nats-io/transport-node": "optional-peer",
  // Never imported either (the PostgreSQL adapter types pg's clients structurally).
  "pg": "optional-peer",
};

/** APIs newer than Node 20 that must not appear in the output. */
const newerThanNode20 = ["Promise.withResolvers", "Array.fromAsync", "Iterator.from", "Float16Array"];

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, { types: string; import: string; default: string }>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The build result. */
export interface NpmBuild {
  /** Absolute path of the tarball. */
  tarball: string;
  /** Absolute path of the package root. */
  packageDir: string;
  /** Package name and version. */
  name: string;
  version: string;
  /** publint and attw output. */
  checks: string;
}

/** Builds and checks the npm package; throws on any failure. */
export async function buildNpm(): Promise<NpmBuild> {
  const started = performance.now();
  const config = JSON.parse(await Deno.readTextFile(`${rootPath}deno.json`));
  const name: string = config.name;
  const version: string = config.version;
  const denoExports: Record<string, string> = config.exports;
  const imports: Record<string, string> = config.imports ?? {};

  for (const file of ["README.md", "LICENSE"]) {
    if (!isFile(`${rootPath}${file}`)) {
      throw new Error(`${file} is missing at the repository root: the npm package must include it`);
    }
  }

  await Deno.remove(npmDir, { recursive: true }).catch(ignoreNotFound);
  await Deno.remove(workDir, { recursive: true }).catch(ignoreNotFound);
  await Deno.mkdir(npmDir, { recursive: true });
  await Deno.mkdir(workDir, { recursive: true });

  // 1. deno pack
  const raw = `${workDir}/deno-pack.tgz`;
  console.log(`=== deno pack (${name}@${version})`);
  await run(Deno.execPath(), ["pack", "--allow-dirty", "--no-source-maps", "--ignore=deno.lock,README.md", "-o", raw]);
  await run("tar", ["-xzf", raw, "-C", npmDir]);

  // 2. post-process
  const files = walk(packageDir);
  for (const file of files) {
    // deno pack ships every file not excluded from publishing; a .ts left untranspiled is reached by no export.
    if (file.endsWith(".ts") && !file.endsWith(".d.ts")) {
      console.log(`  leaving out ${file}: no export reaches it`);
      await Deno.remove(`${packageDir}/${file}`);
    }
  }
  await Deno.copyFile(`${rootPath}README.md`, `${packageDir}/README.md`);
  if (!isFile(`${packageDir}/LICENSE`)) await Deno.copyFile(`${rootPath}LICENSE`, `${packageDir}/LICENSE`);

  const packed: PackageJson = JSON.parse(await Deno.readTextFile(`${packageDir}/package.json`));
  if (packed.name !== name || packed.version !== version) {
    throw new Error(`deno pack wrote ${packed.name}@${packed.version}, deno.json says ${name}@${version}`);
  }
  checkExports(denoExports, packed.exports);

  const output = walk(packageDir).filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"));
  const bare = await checkImports(output);
  checkNodeApis(output);

  const dependencies: Record<string, string> = {};
  const peerDependencies: Record<string, string> = {};
  const peerDependenciesMeta: Record<string, { optional: true }> = {};
  for (const pkg of new Set([...Object.keys(packed.dependencies ?? {}), ...bare])) {
    if (!(pkg in dependencyPolicy)) {
      throw new Error(`the output imports "${pkg}", which has no entry in dependencyPolicy (scripts/build_npm.ts)`);
    }
  }
  for (const [pkg, kind] of Object.entries(dependencyPolicy)) {
    const used = bare.has(pkg) || pkg in (packed.dependencies ?? {});
    if (kind === "optional-peer-if-used" && !used) continue;
    if (kind === "dependency" && !used) continue;
    const range = versionRange(pkg, imports, packed.dependencies);
    if (kind === "dependency") dependencies[pkg] = range;
    else {
      peerDependencies[pkg] = range;
      peerDependenciesMeta[pkg] = { optional: true };
    }
  }

  const { dependencies: _dropped, name: _name, version: _version, ...rest } = packed;
  const pkgJson = {
    name,
    version,
    description:
      "Typed publish/subscribe with one API over many transports: in-process, Redis, NATS, PostgreSQL, WebSocket, iroh and worker threads.",
    keywords: [
      "pubsub",
      "publish-subscribe",
      "events",
      "redis",
      "nats",
      "postgres",
      "websocket",
      "bun",
      "iroh",
      "worker",
      "async-iterator",
    ],
    ...rest,
    engines: { node: NODE_ENGINE },
    dependencies,
    ...(Object.keys(peerDependencies).length > 0 ? { peerDependencies, peerDependenciesMeta } : {}),
  };
  await Deno.writeTextFile(`${packageDir}/package.json`, JSON.stringify(pkgJson, null, 2) + "\n");
  console.log(
    `  package.json: dependencies ${JSON.stringify(dependencies)}, optional peers ${
      JSON.stringify(peerDependencies)
    }, engines.node ${NODE_ENGINE}`,
  );

  // 3. tarball and checks
  console.log("=== npm pack");
  const packOut = await run("npm", ["pack", "--json", "--pack-destination", npmDir], { cwd: packageDir, quiet: true });
  const [{ filename, entryCount, size }] = JSON.parse(packOut.stdout);
  const tarball = `${npmDir}/${filename}`;
  console.log(`  ${tarball} (${entryCount} files, ${(size / 1024).toFixed(1)} KiB)`);

  console.log("=== publint --strict");
  const publint = await run(bin("publint"), ["run", "--strict", packageDir], { allowFailure: true, cwd: packageDir });
  console.log("=== attw --pack --profile esm-only");
  const attw = await run(bin("attw"), ["--pack", packageDir, "--profile", "esm-only"], {
    allowFailure: true,
    cwd: packageDir,
  });
  const checks = [
    `$ publint run --strict npm/package\n${publint.stdout}${publint.stderr}`,
    `$ attw --pack npm/package --profile esm-only\n${attw.stdout}${attw.stderr}`,
  ].join("\n");
  await Deno.writeTextFile(`${npmDir}/checks.txt`, checks);
  // publint prints suggestions without failing; "clean" means it found nothing at all.
  const publintClean = publint.code === 0 && /All good!/.test(publint.stdout + publint.stderr);
  if (!publintClean) throw new Error(`publint is not clean (exit ${publint.code}); see above`);
  if (attw.code !== 0) throw new Error(`attw found problems (exit ${attw.code}); see above`);

  console.log(
    `=== npm package built and checked in ${((performance.now() - started) / 1000).toFixed(1)} s: ${tarball}`,
  );
  return { tarball, packageDir, name, version, checks };
}

/** package.json exports must be exactly deno.json's, with `.ts` → `.js` / `.d.ts`, and the files must exist. */
function checkExports(denoExports: Record<string, string>, npmExports: PackageJson["exports"]): void {
  const problems: string[] = [];
  const denoKeys = Object.keys(denoExports).sort();
  const npmKeys = Object.keys(npmExports ?? {}).sort();
  for (const key of denoKeys) {
    if (!npmKeys.includes(key)) problems.push(`"${key}" is in deno.json but not package.json`);
  }
  for (const key of npmKeys) {
    if (!denoKeys.includes(key)) problems.push(`"${key}" is in package.json but not deno.json`);
  }
  for (const key of denoKeys) {
    const entry = npmExports?.[key];
    if (!entry) continue;
    const base = denoExports[key].replace(/\.ts$/, "");
    const want = { types: `${base}.d.ts`, import: `${base}.js`, default: `${base}.js` };
    for (const condition of ["types", "import", "default"] as const) {
      if (entry[condition] !== want[condition]) {
        problems.push(`"${key}" ${condition} is ${JSON.stringify(entry[condition])}, expected "${want[condition]}"`);
      } else if (!isFile(`${packageDir}/${want[condition]}`)) {
        problems.push(`"${key}" ${condition} names ${want[condition]}, which is not in the package`);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`exports differ between deno.json and package.json:\n  ${problems.join("\n  ")}`);
  }
  console.log(`  exports match deno.json: ${denoKeys.join(", ")}`);
}

/**
 * Every import in the output must be a file in the package, a `node:` builtin
 * or an npm package (returned, checked against the policy by the caller).
 * Uses TypeScript's own scanner, so JSDoc examples are not mistaken for imports.
 */
async function checkImports(files: string[]): Promise<Set<string>> {
  const require = createRequire(`${rootPath}tools/node_modules/`);
  const ts = require("typescript") as {
    preProcessFile(text: string, readImports: boolean, detectJs: boolean): { importedFiles: { fileName: string }[] };
  };
  const bare = new Set<string>();
  const problems: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(`${packageDir}/${file}`);
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      if (spec.startsWith("./") || spec.startsWith("../")) {
        const target = new URL(spec, `file:///${file}`).pathname.slice(1);
        const wanted = file.endsWith(".d.ts") ? target.replace(/\.js$/, ".d.ts") : target;
        if (!isFile(`${packageDir}/${wanted}`)) {
          problems.push(`${file}: "${spec}" resolves to ${wanted}, not in the package`);
        }
      } else if (spec.startsWith("node:")) {
        continue;
      } else if (/^[a-z]+:/i.test(spec)) {
        problems.push(`${file}: "${spec}" cannot be resolved by Node`);
      } else {
        const parts = spec.split("/");
        bare.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
      }
    }
  }
  if (problems.length > 0) throw new Error(`unresolvable imports in the output:\n  ${problems.join("\n  ")}`);
  return bare;
}

function checkNodeApis(files: string[]): void {
  const problems: string[] = [];
  for (const file of files.filter((f) => f.endsWith(".js"))) {
    const code = Deno.readTextFileSync(`${packageDir}/${file}`).replace(/\/\*[\s\S]*?\*\//g, "");
    for (const api of newerThanNode20) if (code.includes(api)) problems.push(`${file} uses ${api}`);
  }
  if (problems.length > 0) throw new Error(`the output uses APIs Node 20 lacks:\n  ${problems.join("\n  ")}`);
}

function versionRange(pkg: string, imports: Record<string, string>, packed?: Record<string, string>): string {
  const mapped = imports[pkg]?.match(/^npm:(?:@[^/@]+\/)?[^@]+@(.+)$/)?.[1];
  const range = mapped ?? packed?.[pkg];
  if (!range) throw new Error(`no version range for "${pkg}": map it in deno.json imports`);
  return range;
}

function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(`${dir}${prefix ? `/${prefix}` : ""}`)) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

interface RunOptions {
  cwd?: string;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Do not echo stdout (it is returned). */
  quiet?: boolean;
}

async function run(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? rootPath,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  if (!options.quiet && out) console.log(out.trimEnd());
  if (err) console.error(err.trimEnd());
  if (code !== 0 && !options.allowFailure) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
  return { code, stdout: out, stderr: err };
}

if (import.meta.main) {
  try {
    await buildNpm();
  } catch (error) {
    console.error(`\nnpm build failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}

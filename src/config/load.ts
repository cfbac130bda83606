/**
 * Reading the configuration: a YAML file (default `config/default.yaml`),
 * environment overrides on top, then validation and compilation.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { ConfigError, type ConfigIssue, compileConfig, type GatewayConfig } from "./schema.js";

/** `config/default.yaml` at the package root; src/config and dist/config are both two levels down. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL("../../config/default.yaml", import.meta.url));

/** Environment variable → key path, and how its text becomes a value. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[]; parse: (v: string) => unknown }> = [
  { env: "DSIP_GATEWAY_SIP_LISTEN", path: ["sip", "listen"], parse: (v) => splitComma(v) },
  { env: "DSIP_GATEWAY_HTTP_LISTEN", path: ["http", "listen"], parse: (v) => v.trim() },
  { env: "DSIP_GATEWAY_LOG_LEVEL", path: ["logging", "level"], parse: (v) => v.trim() },
  { env: "DSIP_GATEWAY_CDR_SQLITE", path: ["cdr", "sqlite"], parse: nullable },
  { env: "DSIP_GATEWAY_CDR_JSONL", path: ["cdr", "jsonl"], parse: nullable },
  {
    env: "DSIP_GATEWAY_EMERGENCY_NUMBERS",
    path: ["emergency", "numbers"],
    parse: (v) => splitComma(v),
  },
];

function splitComma(v: string): string[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function nullable(v: string): string | null {
  const t = v.trim();
  return t === "" || t === "null" || t === "off" ? null : t;
}

export interface LoadOptions {
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** Applies DSIP_GATEWAY_* overrides to a parsed document (a copy is returned). */
export function applyEnvOverrides(doc: unknown, env: Record<string, string | undefined>): unknown {
  // A document that is not a mapping is left for the schema to reject.
  if (doc !== null && doc !== undefined && (typeof doc !== "object" || Array.isArray(doc))) return doc;
  const root = (doc ? structuredClone(doc) : {}) as Record<string, unknown>;
  for (const o of ENV_OVERRIDES) {
    const value = env[o.env];
    if (value === undefined) continue;
    let node = root;
    for (const key of o.path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== "object" || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[o.path.at(-1)!] = o.parse(value);
  }
  return root;
}

/** Parses and validates YAML text. `source` names the file in errors. */
export function parseConfig(text: string, source = "configuration", opts: LoadOptions = {}): GatewayConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e): ConfigIssue => {
        const pos = e.linePos?.[0];
        return {
          path: pos ? `line ${pos.line}, column ${pos.col}` : "",
          message: `YAML syntax: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")} — fix the YAML (indentation, quotes, duplicate keys)`,
        };
      }),
      source,
    );
  }
  const env = opts.env ?? process.env;
  const merged = applyEnvOverrides(doc.toJS({ maxAliasCount: 100 }), env);
  try {
    return compileConfig(merged, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Name the variable when a bad value came from the environment rather than the file.
      const issues = err.issues.map((issue) => {
        const o = ENV_OVERRIDES.find(
          (x) => env[x.env] !== undefined && issue.path.startsWith(pathText(x.path)),
        );
        return o ? { ...issue, path: `${issue.path} (from ${o.env})` } : issue;
      });
      throw new ConfigError(issues, source);
    }
    throw err;
  }
}

function pathText(path: string[]): string {
  return path.join(".");
}

/** Reads, validates and compiles a configuration file (default: config/default.yaml). */
export function loadConfig(file?: string, opts: LoadOptions = {}): GatewayConfig {
  const path = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      [
        {
          path: "",
          message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} — check the --config path`,
        },
      ],
      path,
    );
  }
  return parseConfig(text, path, opts);
}

/**
 * The gateway's configuration: its zod schema, the checks that need more than
 * one key (routes naming trunks, national numbers needing a country), and the
 * compiled, typed form the rest of the gateway reads. Every problem becomes a
 * `ConfigIssue` naming the key path and saying how to fix it.
 */
import { isIP } from "node:net";
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { z } from "zod";

export interface ConfigIssue {
  /** Key path as written in YAML terms, e.g. `trunks[0].address`; "" for the file itself. */
  path: string;
  message: string;
}

/** Thrown by `loadConfig`/`parseConfig`; lists every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly issues: ConfigIssue[],
    readonly source = "configuration",
  ) {
    super(`${source}: ${issues.length} error(s)\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

export type SipTransport = "udp" | "tcp" | "tls" | "ws" | "wss";
const TRANSPORTS = ["udp", "tcp", "tls", "ws", "wss"] as const;
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// ------------------------------------------------------------ value parsers

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port", "[v6]:port"; host an IP literal or a DNS name. */
export function parseHostPortValue(value: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  const host = m[1] ?? m[2]!;
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) !== 4 && !HOSTNAME.test(host)) return undefined;
  return { host, port };
}

export interface ListenAddress extends HostPort {
  transport: SipTransport;
}

function parseListen(value: string): ListenAddress | undefined {
  const colon = value.indexOf(":");
  const transport = value.slice(0, colon).toLowerCase();
  if (colon < 0 || !(TRANSPORTS as readonly string[]).includes(transport)) return undefined;
  const hp = parseHostPortValue(value.slice(colon + 1));
  return hp && { transport: transport as SipTransport, ...hp };
}

/** A trunk's address: host:port, or a DNS name (port and transport then come from RFC 3263). */
export interface TrunkAddress {
  host: string;
  port?: number | undefined;
}

function parseTrunkAddress(value: string): TrunkAddress | undefined {
  const hp = parseHostPortValue(value);
  if (hp) return hp;
  if (isIP(value) === 4) return { host: value };
  const v6 = /^\[([0-9a-fA-F:.]+)\]$/.exec(value);
  if (v6 && isIP(v6[1]!) === 6) return { host: v6[1]! };
  if (HOSTNAME.test(value) && isIP(value) === 0) return { host: value };
  return undefined;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

export function parseCidr(value: string): Cidr | undefined {
  const slash = value.indexOf("/");
  const address = slash < 0 ? value : value.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

// ------------------------------------------------------------ schema

/** A string checked by `check`; the message says what was expected and gives an example. */
function formatted(check: (v: string) => boolean, expectation: string) {
  return z.string({ error: `expected a string: ${expectation}` }).refine(check, { error: expectation });
}

const listenString = formatted(
  (v) => parseListen(v) !== undefined,
  'expected "transport:host:port" with transport udp, tcp, tls, ws or wss — e.g. "udp:127.0.0.1:5060"',
);
const httpListen = formatted(
  (v) => parseHostPortValue(v) !== undefined,
  'expected "host:port" — e.g. "127.0.0.1:8080"',
);
const cidrString = formatted(
  (v) => parseCidr(v) !== undefined,
  'expected an IP address or CIDR block — e.g. "192.0.2.0/24" or "2001:db8::/32"',
);
const countryString = formatted(
  (v) => isSupportedCountry(v),
  'expected an ISO 3166-1 alpha-2 country code in capitals — e.g. "US", "FR"',
);
const positiveInt = (what: string) =>
  z
    .number({ error: `expected a whole number of ${what} ≥ 1, or remove the key for no limit` })
    .int({ error: `expected a whole number of ${what} — e.g. 100` })
    .min(1, { error: `expected at least 1 ${what}; remove the key for no limit` });
const positiveRate = z
  .number({ error: "expected calls per second (> 0), or remove the key for no limit" })
  .positive({ error: "expected a rate above 0 — e.g. 10 or 0.5; remove the key for no limit" });

const numbersSchema = z.strictObject({
  format: z.enum(["e164", "national"], { error: 'expected "e164" or "national"' }).optional(),
  defaultCountry: countryString.optional(),
});

const limitsSchema = z.strictObject({
  maxCalls: positiveInt("concurrent calls").optional(),
  callsPerSecond: positiveRate.optional(),
});

const digestCredentials = z.strictObject({
  username: z
    .string({ error: "expected the digest user name as a string" })
    .min(1, { error: "must not be empty" }),
  password: z
    .string({ error: "expected the digest password as a string" })
    .min(1, { error: "must not be empty" }),
  realm: z
    .string({ error: "expected the digest realm as a string" })
    .min(1, { error: "must not be empty" })
    .optional(),
});

/** What we demand from a trunk: credentials plus the algorithms we challenge with. */
const inboundDigest = digestCredentials.extend({
  algorithms: z
    .array(z.enum(["SHA-256", "MD5"], { error: 'expected "SHA-256" or "MD5"' }), {
      error: 'expected a list — e.g. ["SHA-256", "MD5"]',
    })
    .min(1, { error: 'list at least one algorithm — e.g. ["MD5"]' })
    .default(["SHA-256", "MD5"]),
});

const trunkSchema = z.strictObject({
  name: z.string({ error: 'expected a trunk name — e.g. "carrier-a"' }).regex(/^[A-Za-z0-9._-]{1,64}$/, {
    error: 'use letters, digits, ".", "_" or "-" (at most 64) — e.g. "carrier-a"',
  }),
  address: formatted(
    (v) => parseTrunkAddress(v) !== undefined,
    'expected "host:port" or a DNS name — e.g. "127.0.0.1:5080" or "sip.carrier.example"',
  ),
  transport: z.enum(TRANSPORTS, { error: 'expected "udp", "tcp", "tls", "ws" or "wss"' }).default("udp"),
  inbound: z
    .strictObject({
      acl: z
        .array(cidrString, { error: 'expected a list of CIDR blocks — e.g. ["192.0.2.0/24"]' })
        .optional(),
      auth: inboundDigest.optional(),
    })
    .default({}),
  outbound: z.strictObject({ auth: digestCredentials.optional() }).default({}),
  numbers: numbersSchema.default({}),
  headers: z
    .strictObject({
      trustPai: z.boolean({ error: "expected true or false" }).default(false),
      stripPrivacy: z.boolean({ error: "expected true or false" }).default(false),
      topologyHiding: z.boolean({ error: "expected true or false" }).default(true),
    })
    .default({ trustPai: false, stripPrivacy: false, topologyHiding: true }),
  limits: limitsSchema.default({}),
  noAnswerTimeout: z
    .number({ error: "expected seconds as a number — e.g. 60" })
    .min(1, { error: "at least 1 second — e.g. 60" })
    .max(3600, { error: "at most 3600 seconds — e.g. 60" })
    .default(60),
});

const targetString = z
  .string({ error: 'expected "trunk:NAME" — e.g. "trunk:carrier-a"' })
  .regex(/^trunk:.+$/, { error: 'expected "trunk:NAME" — e.g. "trunk:carrier-a"' });

const routeSchema = z.strictObject({
  match: z.string({ error: 'expected a regular expression as a string — e.g. "^\\+1[0-9]{10}$"' }),
  to: z.union([targetString, z.array(targetString).min(1, { error: "list at least one target" })], {
    error: 'expected "trunk:NAME" or a list of them in failover order — e.g. ["trunk:a", "trunk:b"]',
  }),
  description: z.string().optional(),
});

// The agent's DID syntax (src/agent/messages.ts): no path, query or fragment.
const DID_SYNTAX = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/;
/** A SIP user part we can match literally: RFC 3261 unreserved characters and the usual user marks. */
const SIP_USER = /^[A-Za-z0-9._~!$&'*+=-]{1,64}$/;

const directoryEntrySchema = z.strictObject({
  number: z
    .string({ error: 'expected a phone number as a string — e.g. "+15551230001" (quote it in YAML)' })
    .optional(),
  user: z
    .string({ error: 'expected a SIP user part as a string — e.g. "alice"' })
    .regex(SIP_USER, {
      error: 'use letters, digits and . _ ~ ! $ & \' * + = - (at most 64), without "@host" — e.g. "alice"',
    })
    .optional(),
  did: z
    .string({ error: 'expected a DID as a string — e.g. "did:key:z6Mk…"' })
    .max(2048, { error: "a DID is at most 2048 characters" })
    .regex(DID_SYNTAX, {
      error: 'expected a DID without path, query or fragment — e.g. "did:key:z6Mk…" or "did:web:example.com"',
    }),
  present: z
    .string({ error: 'expected a phone number as a string — e.g. "+15551230001" (quote it in YAML)' })
    .optional(),
  display: z
    .string({ error: 'expected a display name as a string — e.g. "Alice"' })
    .max(64, { error: "at most 64 characters" })
    .optional(),
});

const pathOrNull = z.union([z.string().min(1), z.null()], {
  error: "expected a file path, or null to turn this store off",
});

const portNumber = z
  .number({ error: "expected a UDP port number — e.g. 30000" })
  .int({ error: "expected a whole port number" })
  .min(1024, { error: "use a port of 1024 or above — e.g. 30000" })
  .max(65535, { error: "at most 65535" });

const mediaSchema = z
  .strictObject({
    engine: z
      .enum(["embedded", "rtpengine"], { error: 'expected "embedded" (in process) or "rtpengine"' })
      .default("embedded"),
    /** SIP ⇄ SIP calls: relay RTP through the engine too (default: the phones talk directly). */
    anchorSip: z.boolean({ error: "expected true or false" }).default(false),
    embedded: z
      .strictObject({
        host: z
          .string({ error: 'expected the IP address the relay binds — e.g. "127.0.0.1"' })
          .refine((v) => isIP(v) !== 0, { error: 'expected an IP address — e.g. "127.0.0.1"' })
          .default("127.0.0.1"),
        portMin: portNumber.default(30000),
        portMax: portNumber.default(30999),
      })
      .refine((e) => e.portMin < e.portMax, { error: "portMin must be below portMax — e.g. 30000 and 30999" })
      .default({ host: "127.0.0.1", portMin: 30000, portMax: 30999 }),
    rtpengine: z
      .strictObject({
        address: formatted(
          (v) => parseHostPortValue(v) !== undefined,
          'expected the ng control address "host:port" — e.g. "127.0.0.1:22222"',
        ).default("127.0.0.1:22222"),
        timeoutMs: z
          .number({ error: "expected milliseconds — e.g. 2000" })
          .int()
          .min(100, { error: "at least 100 ms — e.g. 2000" })
          .max(30_000, { error: "at most 30000 ms — e.g. 2000" })
          .default(2000),
      })
      .default({ address: "127.0.0.1:22222", timeoutMs: 2000 }),
  })
  .default({
    engine: "embedded",
    anchorSip: false,
    embedded: { host: "127.0.0.1", portMin: 30000, portMax: 30999 },
    rtpengine: { address: "127.0.0.1:22222", timeoutMs: 2000 },
  });

export const configSchema = z.strictObject({
  sip: z
    .strictObject({
      listen: z
        .array(listenString, { error: 'expected a list — e.g. ["udp:127.0.0.1:5060"]' })
        .min(1, { error: 'list at least one address — e.g. ["udp:127.0.0.1:5060"]' })
        .default(["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]),
    })
    .default({ listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"] }),
  http: z
    .strictObject({ listen: httpListen.default("127.0.0.1:8080") })
    .default({ listen: "127.0.0.1:8080" }),
  numbers: numbersSchema.default({}),
  trunks: z.array(trunkSchema, { error: "expected a list of trunks" }).default([]),
  routes: z.array(routeSchema, { error: "expected a list of routes" }).default([]),
  directory: z
    .array(directoryEntrySchema, {
      error: 'expected a list of entries — e.g. [{ number: "+15551230001", did: "did:key:z6Mk…" }]',
    })
    .default([]),
  limits: limitsSchema.default({}),
  emergency: z
    .strictObject({
      numbers: z
        .array(
          z.string({ error: 'expected a dial string — e.g. "911"' }).regex(/^\+?[0-9*#]{1,15}$/, {
            error: 'expected digits only — e.g. "911" or "112"',
          }),
          { error: 'expected a list — e.g. ["911", "112"]' },
        )
        .default(["911", "112"]),
    })
    .default({ numbers: ["911", "112"] }),
  cdr: z
    .strictObject({
      sqlite: pathOrNull.default("./data/cdr.sqlite"),
      jsonl: pathOrNull.default("./data/cdr.jsonl"),
    })
    .default({ sqlite: "./data/cdr.sqlite", jsonl: "./data/cdr.jsonl" }),
  logging: z
    .strictObject({
      level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` }).default("info"),
    })
    .default({ level: "info" }),
  media: mediaSchema.default({
    engine: "embedded",
    anchorSip: false,
    embedded: { host: "127.0.0.1", portMin: 30000, portMax: 30999 },
    rtpengine: { address: "127.0.0.1:22222", timeoutMs: 2000 },
  }),
  dsip: z
    .strictObject({
      noAnswerTimeout: z
        .number({ error: "expected seconds as a number — e.g. 60" })
        .min(1, { error: "at least 1 second — e.g. 60" })
        .max(3600, { error: "at most 3600 seconds — e.g. 60" })
        .default(60),
    })
    .default({ noAnswerTimeout: 60 }),
});

export type RawConfig = z.infer<typeof configSchema>;

// ------------------------------------------------------------ compiled form

export interface NumberFormat {
  format: "e164" | "national";
  defaultCountry?: string | undefined;
}

export interface DigestCredentialsConfig {
  username: string;
  password: string;
  realm?: string | undefined;
}

export interface InboundDigestConfig extends DigestCredentialsConfig {
  /** Challenges offered, the preferred first (RFC 8760); a UA that knows only MD5 needs ["MD5"]. */
  algorithms: ("SHA-256" | "MD5")[];
}

export interface Limits {
  maxCalls?: number | undefined;
  callsPerSecond?: number | undefined;
}

export interface TrunkConfig {
  name: string;
  address: TrunkAddress;
  /** As written, for logs. */
  addressText: string;
  transport: SipTransport;
  inbound: { acl: Cidr[]; auth?: InboundDigestConfig | undefined };
  outbound: { auth?: DigestCredentialsConfig | undefined };
  numbers: NumberFormat;
  headers: { trustPai: boolean; stripPrivacy: boolean; topologyHiding: boolean };
  limits: Limits;
  /** Seconds the trunk may ring before the gateway CANCELs it and answers 408. */
  noAnswerTimeout: number;
}

export interface RouteConfig {
  /** As written. */
  match: string;
  /** Compiled to match the whole normalised number. */
  regex: RegExp;
  /** Trunk names in failover order. */
  targets: string[];
  description?: string | undefined;
}

/**
 * One directory entry, compiled: who a SIP number or user is on DSIP, and which
 * number a DID shows when it calls out to SIP.
 */
export interface DirectoryEntryConfig {
  /** E.164, when the entry is for a number. */
  number?: string | undefined;
  /** The SIP user part as written, when the entry is for a user (e.g. "alice"). */
  user?: string | undefined;
  did: string;
  /** E.164 shown on SIP when `did` calls out: `present`, else `number`, else none (anonymous). */
  present?: string | undefined;
  display?: string | undefined;
}

export interface GatewayConfig {
  sip: { listen: ListenAddress[] };
  http: { listen: HostPort };
  numbers: NumberFormat;
  trunks: TrunkConfig[];
  routes: RouteConfig[];
  directory: DirectoryEntryConfig[];
  limits: Limits;
  emergency: { numbers: string[] };
  cdr: { sqlite: string | null; jsonl: string | null };
  logging: { level: LogLevel };
  media: {
    engine: "embedded" | "rtpengine";
    anchorSip: boolean;
    embedded: { host: string; portMin: number; portMax: number };
    rtpengine: { host: string; port: number; timeoutMs: number };
  };
  /** Calls to DSIP users: how long one may ring before the caller gets 408. */
  dsip: { noAnswerTimeout: number };
}

function zodPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: zodPath([...issue.path, key]),
        message: "unknown key — remove it or check its spelling (see docs/configuration.md)",
      }));
    }
    if (issue.code === "invalid_union") {
      // Our unions carry one message for the whole union; the branch errors would only repeat it.
      return [{ path: zodPath(issue.path), message: issue.message }];
    }
    return [{ path: zodPath(issue.path), message: issue.message }];
  });
}

function compileRoute(match: string): RegExp | string {
  try {
    // Anchored: "911" must not match "19115". The u flag makes bad escapes errors, not literals.
    return new RegExp(`^(?:${match})$`, "u");
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Validates a parsed YAML document (already merged with environment overrides)
 * and compiles it. Throws `ConfigError` listing every problem.
 */
export function compileConfig(input: unknown, source = "configuration"): GatewayConfig {
  if (input !== undefined && input !== null && asRecord(input) === undefined)
    throw new ConfigError(crossCheckRaw(input), source);
  const parsed = configSchema.safeParse(input ?? {});
  const issues: ConfigIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  if (!parsed.success) {
    // Still check what can be checked on the raw document, so one run lists every error.
    issues.push(...crossCheckRaw(input));
    throw new ConfigError(dedupe(issues), source);
  }
  const raw = parsed.data;
  issues.push(...crossCheckRaw(raw));
  if (issues.length > 0) throw new ConfigError(dedupe(issues), source);

  const numbers = (
    n: { format?: "e164" | "national" | undefined; defaultCountry?: string | undefined },
    fallback?: NumberFormat,
  ): NumberFormat => ({
    format: n.format ?? fallback?.format ?? "e164",
    defaultCountry: n.defaultCountry ?? fallback?.defaultCountry,
  });
  const globalNumbers = numbers(raw.numbers);
  return {
    sip: { listen: raw.sip.listen.map((l) => parseListen(l)!) },
    http: { listen: parseHostPortValue(raw.http.listen)! },
    numbers: globalNumbers,
    trunks: raw.trunks.map((t) => ({
      name: t.name,
      address: parseTrunkAddress(t.address)!,
      addressText: t.address,
      transport: t.transport,
      inbound: { acl: (t.inbound.acl ?? []).map((c) => parseCidr(c)!), auth: t.inbound.auth },
      outbound: { auth: t.outbound.auth },
      numbers: numbers(t.numbers, globalNumbers),
      headers: t.headers,
      limits: t.limits,
      noAnswerTimeout: t.noAnswerTimeout,
    })),
    routes: raw.routes.map((r) => ({
      match: r.match,
      regex: compileRoute(r.match) as RegExp,
      targets: (Array.isArray(r.to) ? r.to : [r.to]).map((t) => t.slice("trunk:".length)),
      description: r.description,
    })),
    directory: raw.directory.map((d) => {
      const country = globalNumbers.defaultCountry;
      const present = d.present ?? d.number;
      return {
        ...(d.number !== undefined ? { number: e164Of(d.number, country)! } : {}),
        ...(d.user !== undefined ? { user: d.user } : {}),
        did: d.did,
        ...(present !== undefined ? { present: e164Of(present, country)! } : {}),
        ...(d.display !== undefined ? { display: d.display } : {}),
      };
    }),
    limits: raw.limits,
    emergency: raw.emergency,
    cdr: raw.cdr,
    logging: raw.logging,
    media: {
      engine: raw.media.engine,
      anchorSip: raw.media.anchorSip,
      embedded: raw.media.embedded,
      rtpengine: {
        ...parseHostPortValue(raw.media.rtpengine.address)!,
        timeoutMs: raw.media.rtpengine.timeoutMs,
      },
    },
    dsip: raw.dsip,
  };
}

/** E.164 of a possible number: "+…", or national with the default country. Undefined otherwise. */
function e164Of(text: string, country: string | undefined): string | undefined {
  const stripped = text.replace(/[-.()\s]/g, "");
  if (!/^\+?[0-9]{2,17}$/.test(stripped)) return undefined;
  const parsed = stripped.startsWith("+")
    ? parsePhoneNumberFromString(stripped)
    : country && isSupportedCountry(country)
      ? parsePhoneNumberFromString(stripped, country as CountryCode)
      : undefined;
  return parsed?.isPossible() ? parsed.number : undefined;
}

/** Numbers, users and DIDs of `directory:` that cannot be told apart, and numbers that are not numbers. */
function checkDirectory(root: Record<string, unknown>, issues: ConfigIssue[]): void {
  if (!Array.isArray(root.directory)) return;
  const countryValue = asRecord(root.numbers)?.defaultCountry;
  const country = typeof countryValue === "string" ? countryValue : undefined;
  const numbers = new Map<string, number>();
  const users = new Map<string, number>();
  const presents = new Map<string, { index: number; present: string }>();
  root.directory.forEach((e, i) => {
    const entry = asRecord(e);
    if (!entry) return;
    const at = `directory[${i}]`;
    const hasNumber = entry.number !== undefined;
    const hasUser = entry.user !== undefined;
    if (hasNumber === hasUser)
      issues.push({
        path: at,
        message: hasNumber
          ? "give either number: or user:, not both — use two entries for the same DID"
          : 'give number: (e.g. "+15551230001") or user: (e.g. "alice")',
      });
    const checkNumber = (key: "number" | "present"): string | undefined => {
      const v = entry[key];
      if (typeof v !== "string") return undefined;
      const e164 = e164Of(v, country);
      if (e164 === undefined)
        issues.push({
          path: `${at}.${key}`,
          message:
            !v.trim().startsWith("+") && country === undefined
              ? `"${v}" has no country code — write it in E.164 (e.g. "+15551230001") or set numbers.defaultCountry`
              : `"${v}" is not a possible phone number — write it in E.164, e.g. "+15551230001"`,
        });
      return e164;
    };
    const number = checkNumber("number");
    const present = checkNumber("present") ?? number;
    if (number !== undefined) {
      const first = numbers.get(number);
      if (first !== undefined)
        issues.push({
          path: `${at}.number`,
          message: `${number} is already in directory[${first}] — a number reaches one DID; remove one entry`,
        });
      else numbers.set(number, i);
    }
    if (typeof entry.user === "string") {
      const first = users.get(entry.user);
      if (first !== undefined)
        issues.push({
          path: `${at}.user`,
          message: `"${entry.user}" is already in directory[${first}] — a user reaches one DID; remove one entry`,
        });
      else users.set(entry.user, i);
    }
    if (typeof entry.did === "string" && present !== undefined) {
      const first = presents.get(entry.did);
      if (first === undefined) presents.set(entry.did, { index: i, present });
      else if (first.present !== present)
        issues.push({
          path: `${at}.present`,
          message: `this DID already presents ${first.present} in directory[${first.index}] — a DID shows one number on SIP: set present: "${first.present}" here too`,
        });
    }
  });
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = formatIssue(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Checks across keys, tolerant of a document that failed the schema elsewhere. */
function crossCheckRaw(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = asRecord(input);
  if (!root) {
    if (input !== undefined && input !== null)
      issues.push({
        path: "",
        message: "expected a YAML mapping at the top level (sip:, http:, trunks:, routes: …)",
      });
    return issues;
  }
  const checkNumbers = (n: unknown, path: string, inherited?: unknown) => {
    const r = asRecord(n);
    const format = r?.format ?? asRecord(inherited)?.format;
    const country = r?.defaultCountry ?? asRecord(inherited)?.defaultCountry;
    if (format === "national" && country === undefined)
      issues.push({
        path: `${path}.defaultCountry`,
        message: 'required when format is "national" — e.g. defaultCountry: "US"',
      });
  };
  checkNumbers(root.numbers, "numbers");
  checkDirectory(root, issues);
  const names = new Map<string, number>();
  const trunks = Array.isArray(root.trunks) ? root.trunks : [];
  trunks.forEach((t, i) => {
    const trunk = asRecord(t);
    if (!trunk) return;
    if (typeof trunk.name === "string") {
      const first = names.get(trunk.name);
      if (first !== undefined)
        issues.push({
          path: `trunks[${i}].name`,
          message: `"${trunk.name}" is already the name of trunks[${first}] — give each trunk its own name`,
        });
      else names.set(trunk.name, i);
    }
    if (trunk.numbers !== undefined) checkNumbers(trunk.numbers, `trunks[${i}].numbers`, root.numbers);
  });
  const routes = Array.isArray(root.routes) ? root.routes : [];
  routes.forEach((r, i) => {
    const route = asRecord(r);
    if (!route) return;
    if (typeof route.match === "string") {
      const compiled = compileRoute(route.match);
      if (typeof compiled === "string")
        issues.push({
          path: `routes[${i}].match`,
          message: `invalid regular expression (${compiled}) — escape special characters, e.g. "^\\\\+1[0-9]{10}$"`,
        });
    }
    const targets = typeof route.to === "string" ? [route.to] : Array.isArray(route.to) ? route.to : [];
    targets.forEach((target, j) => {
      if (typeof target !== "string" || !target.startsWith("trunk:")) return;
      const name = target.slice("trunk:".length);
      if (!names.has(name)) {
        const known = [...names.keys()];
        issues.push({
          path: Array.isArray(route.to) ? `routes[${i}].to[${j}]` : `routes[${i}].to`,
          message: `unknown trunk "${name}" — define it under trunks${
            known.length ? ` or use one of: ${known.map((k) => `trunk:${k}`).join(", ")}` : ""
          }`,
        });
      }
    });
  });
  return issues;
}

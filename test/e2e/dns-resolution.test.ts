/**
 * RFC 3263 against a real DNS server: dnsmasq (Debian dnsmasq-base) on
 * loopback serves NAPTR → SRV → A/AAAA for example.test, and node:dns is
 * pointed at it. Our UAC then reaches our UAS by name alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { userInfo } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import { SipResolver } from "../../src/sip/resolver.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { parseUri, type SipUri } from "../../src/sip/uri.js";
import { findCommand, requirePeer } from "../support/sipp.js";

const hasDnsmasq = requirePeer("dnsmasq");
const DNS_PORT = 25353;
const SIP_PORT = 25170;

describe.skipIf(!hasDnsmasq)("RFC 3263 resolution through dnsmasq", () => {
  let dnsmasq: ChildProcess | undefined;
  let resolver: SipResolver;

  beforeAll(async () => {
    dnsmasq = spawn(
      findCommand("dnsmasq") ?? "dnsmasq",
      [
        "--keep-in-foreground",
        `--port=${DNS_PORT}`,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--pid-file=",
        `--user=${userInfo().username}`,
        "--log-facility=-",
        "--naptr-record=example.test,10,0,s,SIP+D2T,,_sip._tcp.example.test",
        "--naptr-record=example.test,20,0,s,SIP+D2U,,_sip._udp.example.test",
        `--srv-host=_sip._tcp.example.test,pbx.example.test,${SIP_PORT},1,1`,
        `--srv-host=_sip._udp.example.test,pbx.example.test,${SIP_PORT},1,1`,
        "--host-record=pbx.example.test,127.0.0.1",
        "--host-record=plain.example.test,127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    await new Promise((r) => setTimeout(r, 500));
    if (dnsmasq.exitCode !== null) throw new Error("dnsmasq did not start");
    const dns = new Resolver({ timeout: 1000, tries: 1 });
    dns.setServers([`127.0.0.1:${DNS_PORT}`]);
    resolver = new SipResolver(dns);
  });

  afterAll(async () => {
    if (dnsmasq && dnsmasq.exitCode === null) {
      const exited = new Promise((r) => dnsmasq!.once("exit", r));
      dnsmasq.kill("SIGTERM");
      await exited;
    }
  });

  const uri = (s: string) => parseUri(s) as SipUri;

  it("prefers the NAPTR order (TCP first), then SRV, then A", async () => {
    expect(await resolver.resolve(uri("sip:bob@example.test"))).toEqual([
      { protocol: "TCP", host: "127.0.0.1", port: SIP_PORT },
    ]);
    expect(await resolver.resolve(uri("sip:bob@example.test;transport=udp"))).toEqual([
      { protocol: "UDP", host: "127.0.0.1", port: SIP_PORT },
    ]);
    expect(await resolver.resolve(uri("sip:bob@plain.example.test"))).toEqual([
      { protocol: "UDP", host: "127.0.0.1", port: 5060 },
    ]);
    await expect(resolver.resolve(uri("sip:bob@missing.example.test"))).rejects.toThrow(/Cannot resolve/);
  });

  it("lets a UAC reach a UAS by domain name", async () => {
    const uas = new SipStack({ transports: [{ protocol: "TCP", host: "127.0.0.1", port: SIP_PORT }] });
    const uac = new SipStack({ resolver, transports: [{ protocol: "TCP", host: "127.0.0.1", port: 0 }] });
    await uas.start();
    await uac.start();
    try {
      uas.onRequest = (tx) => tx.reply(200);
      const req = createRequest({
        method: "OPTIONS",
        uri: "sip:bob@example.test",
        headers: [
          ["From", "<sip:a@example.com>;tag=dns"],
          ["To", "<sip:bob@example.test>"],
          ["Call-ID", "dns-1"],
          ["CSeq", "1 OPTIONS"],
        ],
      });
      const status = await new Promise<number>((resolve, reject) => {
        void uac
          .requestTo(req, {
            onResponse: (r) => r.status >= 200 && resolve(r.status),
            onTransportError: reject,
          })
          .catch(reject);
      });
      expect(status).toBe(200);
    } finally {
      await uac.close();
      await uas.close();
    }
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
  dir: string;
}

/** A throwaway CA and a server certificate for localhost, made with the openssl CLI. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "dsip-pki-"));
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=dsip test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  run([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "srv.key",
    "-out",
    "srv.csr",
    "-subj",
    "/CN=localhost",
  ]);
  writeFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=DNS:localhost,DNS:other.localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  run([
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ]);
  return {
    dir,
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    certPem: readFileSync(join(dir, "srv.pem"), "utf8"),
    keyPem: readFileSync(join(dir, "srv.key"), "utf8"),
  };
}

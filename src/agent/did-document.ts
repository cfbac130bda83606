/** The parts of a DID document (W3C DID Core) that the agent reads. */

export interface JsonWebKeyOkp {
  kty: string;
  crv?: string;
  x?: string;
  [k: string]: unknown;
}

export interface VerificationMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyMultibase?: string;
  publicKeyBase58?: string;
  publicKeyJwk?: JsonWebKeyOkp;
  [k: string]: unknown;
}

export interface ServiceEndpoint {
  id: string;
  type: string;
  serviceEndpoint: unknown;
}

export interface DidDocument {
  "@context"?: unknown;
  id: string;
  controller?: string | string[];
  verificationMethod?: VerificationMethod[];
  authentication?: (string | VerificationMethod)[];
  assertionMethod?: (string | VerificationMethod)[];
  keyAgreement?: (string | VerificationMethod)[];
  capabilityInvocation?: (string | VerificationMethod)[];
  capabilityDelegation?: (string | VerificationMethod)[];
  service?: ServiceEndpoint[];
  [k: string]: unknown;
}

export const DSIP_SERVICE_TYPE = "DSIPService";

/**
 * The state RFC 3261 §12 gives a dialog, and what follows from it alone: the
 * dialog id, the route set and remote target, CSeq bookkeeping and building
 * a request inside the dialog (§12.2.1.1). No I/O here.
 */
import { createRequest, type HeaderList } from "../builder.js";
import { parseNameAddr } from "../headers/name-addr.js";
import type { SipRequest, SipResponse } from "../message.js";
import { parseUri, type Uri } from "../uri.js";

export type DialogRole = "uac" | "uas";

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\x00${localTag}\x00${remoteTag}`;
}

export interface DialogStateInit {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (UAC) or To (UAS) as we write it, with our tag. */
  localHeader: string;
  /** To (UAC) or From (UAS) as the peer wrote it, with its tag. */
  remoteHeader: string;
  localSeq: number;
  /** Undefined until the peer sends a request in the dialog (always set for a UAS: the INVITE's). */
  remoteSeq: number | undefined;
  remoteTarget: Uri;
  /** Route header values, in the order our requests carry them. */
  routeSet: string[];
  localContact: string;
}

/** The result of checking a request's CSeq against the remote sequence number (§12.2.2). */
export type CSeqVerdict = "ok" | "lower";

export class DialogState {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localHeader: string;
  readonly remoteHeader: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: Uri;
  routeSet: string[];
  localContact: string;
  readonly localUri: Uri;
  readonly remoteUri: Uri;

  constructor(init: DialogStateInit) {
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localHeader = init.localHeader;
    this.remoteHeader = init.remoteHeader;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localContact = init.localContact;
    this.localUri = parseNameAddr(init.localHeader).uri;
    this.remoteUri = parseNameAddr(init.remoteHeader).uri;
  }

  get id(): string {
    return dialogId(this.callId, this.localTag, this.remoteTag);
  }

  /**
   * §12.2.2: a request with a CSeq below the remote sequence number is out of
   * order (500). An equal one is a new transaction reusing the number, which
   * only PRACK/ACK-like pairs do legitimately; we treat it as lower as well.
   * An acceptable request moves the remote sequence number forward.
   */
  checkRemoteCSeq(req: SipRequest): CSeqVerdict {
    const seq = req.cseq!.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return "lower";
    this.remoteSeq = seq;
    return "ok";
  }

  /** A new request in the dialog (§12.2.1.1); `seq` given for ACK (the INVITE's number). */
  buildRequest(method: string, headers: HeaderList = [], body?: Buffer | string, seq?: number): SipRequest {
    let cseq = seq;
    if (cseq === undefined) {
      this.localSeq += 1;
      cseq = this.localSeq;
    }
    const h: HeaderList = [
      ...this.routeSet.map((r) => ["Route", r] as [string, string]),
      ["From", this.localHeader],
      ["To", this.remoteHeader],
      ["Call-ID", this.callId],
      ["CSeq", `${cseq} ${method}`],
    ];
    if (method === "INVITE" || method === "UPDATE" || method === "SUBSCRIBE" || method === "REFER") {
      h.push(["Contact", `<${this.localContact}>`]);
    }
    h.push(...headers);
    return createRequest({ method, uri: this.remoteTarget, headers: h, body });
  }

  /** Target refresh (§12.2): a re-INVITE/UPDATE or its 2xx with a Contact replaces the remote target. */
  refreshTarget(msg: SipRequest | SipResponse): void {
    try {
      const contact = msg.contact;
      if (contact !== "*" && contact.length > 0) this.remoteTarget = contact[0]!.uri;
    } catch {
      // a malformed Contact leaves the old target: better than losing the dialog
    }
  }

  /** Where a request in the dialog goes first: the first route (loose routing), else the remote target. */
  nextHop(): Uri {
    const first = this.routeSet[0];
    if (first !== undefined) return parseNameAddr(first, { requireAngle: true }).uri;
    return this.remoteTarget;
  }
}

/** Contact URI of a message, if it has one we can use. */
export function contactOf(msg: SipRequest | SipResponse): Uri | undefined {
  try {
    const c = msg.contact;
    return c !== "*" && c.length > 0 ? c[0]!.uri : undefined;
  } catch {
    return undefined;
  }
}

/** Record-Route values as the UAS keeps them (same order) or the UAC (reversed), §12.1.1/§12.1.2. */
export function routeSetFrom(msg: SipRequest | SipResponse, role: DialogRole): string[] {
  const values = msg.listValues("record-route");
  return role === "uac" ? values.slice().reverse() : values;
}

export function uriOrUndefined(text: string): Uri | undefined {
  try {
    return parseUri(text);
  } catch {
    return undefined;
  }
}

/** The application API (drachtio-srf shaped) and the dialog layer under it. */
export * from "../dialog/auth-retry.js";
export { type DestroyInfo, Dialog, type DialogEndReason, type RequestOptions } from "../dialog/dialog.js";
export * from "../dialog/dialog-layer.js";
export { type DialogRole, DialogState, dialogId } from "../dialog/dialog-state.js";
export * from "../dialog/errors.js";
export { glareRetryDelayMs } from "../dialog/glare.js";
export * from "../dialog/request-response.js";
export { isHoldOffer } from "../dialog/sdp-hold.js";
export * from "../dialog/session-timer.js";
export { type UacCallbacks, UacInvite, type UacInviteOptions } from "../dialog/uac-invite.js";
export { UasInvite } from "../dialog/uas-invite.js";
export { type B2buaCallbacks, type B2buaOptions, NoAnswerError } from "./b2bua.js";
export * from "./header-rules.js";
export * from "./middleware.js";
export * from "./srf.js";

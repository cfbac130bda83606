export * from "./engine.js";
export { buildRtp, isRtp, parseRtp, type RtpPacket } from "./rtp.js";
export * from "./tone.js";

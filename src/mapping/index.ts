/** Pure SIP ⇄ DSIP translation (ARCHITECTURE §2): what src/b2bua imports from src/mapping. */
export * from "./call.js";
export * from "./directory.js";
export * from "./errors.js";
export * from "./numbers.js";
export * from "./sdp.js";
export * from "./status.js";

/** The gateway configuration: what the rest of the gateway imports from src/config. */
export * from "./load.js";
export * from "./schema.js";

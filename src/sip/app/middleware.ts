/**
 * A connect-style request pipeline: `use(fn)`, `use("invite", fn | [fn…])`,
 * error handlers with four parameters `(err, req, res, next)`. A handler that
 * throws or returns a rejected promise passes the error down the chain.
 */
import type { SrfRequest, SrfResponse } from "../dialog/request-response.js";

export type Next = (err?: unknown) => void;
export type Handler = (req: SrfRequest, res: SrfResponse, next: Next) => unknown;
export type ErrorHandler = (err: unknown, req: SrfRequest, res: SrfResponse, next: Next) => unknown;

interface Layer {
  method: string | undefined;
  fn: Handler | ErrorHandler;
  isError: boolean;
}

export class Pipeline {
  private readonly layers: Layer[] = [];

  use(
    methodOrFn: string | Handler | ErrorHandler,
    ...fns: Array<Handler | ErrorHandler | Array<Handler | ErrorHandler>>
  ): this {
    let method: string | undefined;
    const list: Array<Handler | ErrorHandler> = [];
    if (typeof methodOrFn === "string") method = methodOrFn.toUpperCase();
    else list.push(methodOrFn);
    for (const f of fns) list.push(...(Array.isArray(f) ? f : [f]));
    for (const fn of list) this.layers.push({ method, fn, isError: fn.length === 4 });
    return this;
  }

  get size(): number {
    return this.layers.length;
  }

  /** Runs the chain; `done` gets the error (or undefined) when the chain falls off its end. */
  run(req: SrfRequest, res: SrfResponse, done: (err?: unknown) => void): void {
    let i = 0;
    const next: Next = (err?: unknown) => {
      while (i < this.layers.length) {
        const layer = this.layers[i++]!;
        if (layer.method && layer.method !== req.method) continue;
        if (layer.isError !== (err !== undefined)) continue;
        try {
          const out = layer.isError
            ? (layer.fn as ErrorHandler)(err, req, res, next)
            : (layer.fn as Handler)(req, res, next);
          if (out && typeof (out as Promise<unknown>).then === "function") {
            (out as Promise<unknown>).then(undefined, (e: unknown) => next(e ?? new Error("rejected")));
          }
        } catch (e) {
          next(e ?? new Error("thrown"));
        }
        return;
      }
      done(err);
    };
    next();
  }
}

/**
 * The one way Switchboard changes the WebRTC library (werift 0.25.2) where its
 * options cannot reach: every fix, tuning and TURN patch is a
 * {@link WeriftPatch} applied by {@link applyPatches}.
 *
 * A patch first checks that the code it changes is the code it was written
 * for, and throws a {@link WeriftMismatch} naming what differs otherwise, so
 * an upgrade of the library can never silently undo (or break) it. Every
 * function a patch installs is marked ({@link markPatched}), so applying a
 * patch twice changes nothing.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";

/** The werift release whose code every patch was written for. */
export const WERIFT_VERSION = "0.25.2";

/**
 * One change to werift. {@link applyPatches} calls `check` on every patch not
 * yet in place before it calls any `apply`, so a mismatch leaves werift
 * untouched.
 *
 * @typeParam W The part of the werift module the patch reads.
 */
export interface WeriftPatch<W = Werift> {
  /** Whether the patch is in place already; never throws. */
  isApplied(werift: W): boolean;
  /**
   * Throws unless werift's code is what the patch was written for.
   *
   * @throws {WeriftMismatch} Naming the class or method and what did not match.
   */
  check(werift: W): void;
  /** Installs the patch; only called after `check` passed. */
  apply(werift: W): void;
}

/** A patch that replaces methods of classes werift exports. */
export interface MethodPatch<W> {
  /**
   * The methods it replaces, as `[class export, method]`; the patch is in
   * place once every one of them is a function it installed ({@link markPatched}).
   */
  readonly replaces: readonly (readonly [exportName: string, method: string])[];
  /** As {@link WeriftPatch.check}. */
  check(werift: W): void;
  /** As {@link WeriftPatch.apply}; every replacement must be marked. */
  apply(werift: W): void;
}

/**
 * A {@link WeriftPatch} that knows it is applied by the marks on the methods
 * it replaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markPatched, methodPatch } from "./patch.ts";
 *
 * class Greeter {
 *   greet(): string {
 *     return "hello";
 *   }
 * }
 * const patch = methodPatch<{ Greeter: typeof Greeter }>({
 *   replaces: [["Greeter", "greet"]],
 *   check: () => {},
 *   apply: ({ Greeter }) => {
 *     Greeter.prototype.greet = markPatched(() => "HELLO");
 *   },
 * });
 * assert.equal(patch.isApplied({ Greeter }), false);
 * patch.apply({ Greeter });
 * assert.equal(patch.isApplied({ Greeter }), true);
 * ```
 */
export function methodPatch<W extends object>(patch: MethodPatch<W>): WeriftPatch<W> {
  return {
    isApplied: (werift) =>
      patch.replaces.every(([exportName, method]) =>
        isPatched(methodNow(werift, exportName, method))
      ),
    check: (werift) => patch.check(werift),
    apply: (werift) => patch.apply(werift),
  };
}

/**
 * Applies `patches` that are not in place yet, after checking all of them.
 * Idempotent.
 *
 * @throws {WeriftMismatch} When werift's code is not what a patch expects;
 *   then no patch of this call is applied.
 *
 * @example A patch that is in place is not applied again
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyPatches, isPatched, markPatched, type WeriftPatch } from "./patch.ts";
 *
 * const library = { greet: () => "hello" };
 * const shout: WeriftPatch<typeof library> = {
 *   isApplied: (lib) => isPatched(lib.greet),
 *   check: () => {},
 *   apply(lib) {
 *     const greet = lib.greet;
 *     lib.greet = markPatched(() => greet().toUpperCase());
 *   },
 * };
 * applyPatches(library, [shout]);
 * applyPatches(library, [shout]);
 * assert.equal(library.greet(), "HELLO");
 * ```
 */
export function applyPatches<W>(werift: W, patches: readonly WeriftPatch<W>[]): void {
  const pending = patches.filter((patch) => !patch.isApplied(werift));
  for (const patch of pending) patch.check(werift);
  for (const patch of pending) patch.apply(werift);
}

/** werift's code is not the code a patch was written for. */
export class WeriftMismatch extends Error {
  /**
   * @param subject The class, method or export, e.g. `Connection.prototype.connect`.
   * @param what What did not match, e.g. `is missing`.
   */
  constructor(subject: string, what: string) {
    super(`cannot patch werift: ${subject} ${what} (written for werift ${WERIFT_VERSION})`);
    this.name = "WeriftMismatch";
  }
}

/** Marks functions a patch installed, so patching twice is harmless. */
const PATCHED = Symbol.for("switchboard.werift-patch");

/**
 * Marks `fn` as installed by a patch.
 *
 * @returns `fn` itself.
 */
export function markPatched<F extends object>(fn: F): F {
  Object.defineProperty(fn, PATCHED, { value: true });
  return fn;
}

/** Whether `fn` is a function a patch installed. */
export function isPatched(fn: unknown): boolean {
  return typeof fn === "function" && (fn as { [PATCHED]?: boolean })[PATCHED] === true;
}

/**
 * A function's or class's source with runs of white space collapsed, so
 * fragments of werift's code can be compared however it was formatted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collapsedSource } from "./patch.ts";
 * assert.equal(collapsedSource("return\n    1;"), "return 1;");
 * ```
 */
export function collapsedSource(fn: unknown): string {
  return String(fn).replace(/\s+/g, " ");
}

/**
 * A short hash (32-bit FNV-1a, hex) of a function's source with runs of white
 * space collapsed, to notice any change in code that a patch copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceFingerprint } from "./patch.ts";
 * assert.equal(sourceFingerprint("a  b"), sourceFingerprint("a\nb"));
 * assert.match(sourceFingerprint("a b"), /^[0-9a-f]{8}$/);
 * ```
 */
export function sourceFingerprint(source: string): string {
  let hash = 0x811c9dc5;
  const text = source.replace(/\s+/g, " ");
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** What a method's source must look like before a patch may replace it. */
export interface SourceExpectation {
  /** How errors name the method, e.g. `RTCDtlsTransport.prototype.start`. */
  readonly name: string;
  /** Fragments the source must contain, each with why it matters. */
  readonly fragments: readonly (readonly [fragment: string, meaning: string])[];
  /**
   * {@link sourceFingerprint} of the source, for methods replaced by a copy:
   * any change there would be silently undone by the copy.
   */
  readonly fingerprint?: string;
}

/**
 * Throws unless `fn` is a function whose source matches `expected`.
 *
 * @throws {WeriftMismatch} Naming the method and the first thing that did not match.
 */
export function expectSource(fn: unknown, expected: SourceExpectation): void {
  if (typeof fn !== "function") throw new WeriftMismatch(expected.name, "does not exist");
  const source = Function.prototype.toString.call(fn);
  for (const [fragment, meaning] of expected.fragments) {
    if (!source.includes(fragment)) {
      throw new WeriftMismatch(
        expected.name,
        `no longer contains ${JSON.stringify(fragment)} (${meaning})`,
      );
    }
  }
  const actual = sourceFingerprint(source);
  if (expected.fingerprint !== undefined && actual !== expected.fingerprint) {
    throw new WeriftMismatch(
      expected.name,
      `changed (source fingerprint ${actual}, expected ${expected.fingerprint}), ` +
        "and the copy that replaces it would undo the change",
    );
  }
}

/**
 * The prototype of the class werift exports as `exportName`, to read and
 * replace its methods.
 *
 * @throws {WeriftMismatch} When no such class is exported.
 */
export function prototypeOf(werift: object, exportName: string): Record<string, unknown> {
  const exported = (werift as Record<string, unknown>)[exportName];
  if (typeof exported !== "function" || typeof exported.prototype !== "object") {
    throw new WeriftMismatch(exportName, "is not exported as a class");
  }
  return exported.prototype as Record<string, unknown>;
}

/**
 * What the class werift exports as `exportName` has as `method` now (werift's
 * own or a patch's), or `undefined`; never throws, for `isApplied`.
 */
export function methodNow(werift: object, exportName: string, method: string): unknown {
  const exported = (werift as Record<string, unknown>)[exportName];
  if (typeof exported !== "function") return undefined;
  return (exported.prototype as Record<string, unknown> | undefined)?.[method];
}

/**
 * An export of werift that must be a function (a class or a helper).
 *
 * @throws {WeriftMismatch} When it is not.
 */
export function exportedFunction(werift: object, exportName: string): unknown {
  const exported = (werift as Record<string, unknown>)[exportName];
  if (typeof exported !== "function") {
    throw new WeriftMismatch(exportName, "is not exported as a function");
  }
  return exported;
}

/** A logging function, as werift's `debug` dependency makes them. */
export type WeriftLog = (...args: unknown[]) => void;

/**
 * werift's own debug logger for `namespace`, so a copied method logs where
 * the original did; a no-op when werift does not export it.
 */
export function weriftDebug(werift: object, namespace: string): WeriftLog {
  const debug = (werift as { debug?: unknown }).debug;
  return typeof debug === "function" ? debug(namespace) : () => {};
}

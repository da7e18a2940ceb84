/**
 * Time in tcplab is milliseconds (fractions allowed), of two kinds that the
 * compiler keeps apart: an `Instant` is a point on a clock, counted from the
 * clock's epoch (`now`, a deadline); a `Duration` is a length of time (an
 * RTO, a timeout, a delay). Both are plain numbers at run time — `<`, `===`
 * and printing work as on numbers — but arithmetic on them yields a plain
 * number, so a result becomes a time again only through the helpers below:
 * an instant plus an instant, or a duration where a deadline is expected,
 * does not compile. This module is the one place that casts.
 */
declare const instantBrand: unique symbol;
declare const durationBrand: unique symbol;

/** A point in time: milliseconds since the clock's epoch. */
export type Instant = number & { readonly [instantBrand]: true };
/** A length of time in milliseconds. */
export type Duration = number & { readonly [durationBrand]: true };

/** A duration of `n` milliseconds. */
export const ms = (n: number): Duration => n as Duration;
/** A duration of `n` seconds. */
export const seconds = (n: number): Duration => (n * 1000) as Duration;
/** A duration of `n` minutes. */
export const minutes = (n: number): Duration => (n * 60_000) as Duration;

/** The instant `n` milliseconds after the epoch: for times that come from outside (a real clock, a file, a user). */
export const instant = (n: number): Instant => n as Instant;
/** The clock's epoch, where a virtual clock starts. */
export const EPOCH: Instant = instant(0);
/** A deadline that never comes. */
export const NEVER: Instant = instant(Number.POSITIVE_INFINITY);
/** An instant before every other, for "never happened" that must compare as long ago. */
export const LONG_AGO: Instant = instant(Number.NEGATIVE_INFINITY);
/** No duration at all. */
export const ZERO: Duration = ms(0);
/** A duration longer than any other. */
export const FOREVER: Duration = ms(Number.POSITIVE_INFINITY);

/** The instant `d` after `t`. */
export const later = (t: Instant, d: Duration): Instant => (t + d) as Instant;
/** The instant `d` before `t`. */
export const earlier = (t: Instant, d: Duration): Instant => (t - d) as Instant;
/** The time from `from` to `to` (negative if `to` is earlier). */
export const elapsed = (from: Instant, to: Instant): Duration => (to - from) as Duration;

/** Durations added. */
export const plus = (a: Duration, b: Duration): Duration => (a + b) as Duration;
/** `a` less `b`. */
export const minus = (a: Duration, b: Duration): Duration => (a - b) as Duration;
/** `d` times `k`. */
export const scale = (d: Duration, k: number): Duration => (d * k) as Duration;

/** The earlier instant, or the shorter duration; both arguments of one kind. */
export const min = <T extends Instant | Duration>(a: T, b: NoInfer<T>): T => (b < a ? b : a);
/** The later instant, or the longer duration; both arguments of one kind. */
export const max = <T extends Instant | Duration>(a: T, b: NoInfer<T>): T => (b > a ? b : a);

// Comparing secrets (password hashes, digests) in time that does not depend on where they differ.
import { timingSafeEqual } from 'node:crypto';

/** Equal bytes, in time that depends on the lengths only. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a); // spend the time of a comparison, then refuse
    return false;
  }
  return timingSafeEqual(a, b);
}

// Bytes to text one char per byte (latin1): how header bytes become strings everywhere in lantern.

/** Node's Buffer has had latin1Slice forever; it skips toString()'s argument juggling. */
interface Latin1Source {
  latin1Slice(start: number, end: number): string;
}

/** `b[start, end)` as a latin1 string (one char per byte, never a replacement char). */
export function latin1(b: Buffer, start: number, end: number): string {
  return (b as unknown as Latin1Source).latin1Slice(start, end);
}

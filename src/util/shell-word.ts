/** A word as a POSIX shell reads it back: as it is when it has nothing special in it, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

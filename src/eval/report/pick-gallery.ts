/**
 * Which test images the report shows per class, from their scores alone
 * (only these few are re-scored for heatmaps at the end): the worst misses
 * (defective images scoring lowest), the worst false alarms (good images
 * scoring highest) and the borderline cases (closest to the threshold, not
 * already shown).
 */
export interface Candidate {
  readonly path: string;
  readonly anomalous: boolean;
  readonly score: number;
}

export interface GalleryPick<T extends Candidate> {
  readonly misses: T[];
  readonly falseAlarms: T[];
  readonly borderline: T[];
}

export function pickGallery<T extends Candidate>(images: readonly T[], threshold: number, n: number): GalleryPick<T> {
  // Ties are broken by path so the same scores always pick the same images.
  const byPath = (a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const misses = images.filter((i) => i.anomalous).sort((a, b) => a.score - b.score || byPath(a, b)).slice(0, n);
  const falseAlarms = images.filter((i) => !i.anomalous).sort((a, b) => b.score - a.score || byPath(a, b)).slice(0, n);
  const shown = new Set([...misses, ...falseAlarms]);
  const borderline = images
    .filter((i) => !shown.has(i))
    .sort((a, b) => Math.abs(a.score - threshold) - Math.abs(b.score - threshold) || byPath(a, b))
    .slice(0, n);
  return { misses, falseAlarms, borderline };
}

/**
 * The MVTec AD folder layout, as a list of files to produce:
 *   <class>/train/good/NNN.png
 *   <class>/test/good/NNN.png
 *   <class>/test/<defect>/NNN.png
 *   <class>/ground_truth/<defect>/NNN_mask.png
 */
import type { ProductClass } from "./classes.js";
import type { SampleId } from "./sample.js";

export interface Counts {
  readonly trainPerClass: number;
  readonly testGoodPerClass: number;
  readonly testPerDefect: number;
}

export interface LayoutEntry {
  readonly cls: ProductClass;
  readonly id: SampleId;
  /** Path of the image, relative to the data-set root, with forward slashes. */
  readonly image: string;
  /** Path of the ground-truth mask, for anomalous images. */
  readonly mask?: string;
}

export function stem(index: number): string {
  return String(index).padStart(3, "0");
}

export function planLayout(classes: readonly ProductClass[], counts: Counts): LayoutEntry[] {
  const entries: LayoutEntry[] = [];
  for (const cls of classes) {
    for (let i = 0; i < counts.trainPerClass; i++) {
      entries.push({ cls, id: { split: "train", label: "good", index: i }, image: `${cls.name}/train/good/${stem(i)}.png` });
    }
    for (let i = 0; i < counts.testGoodPerClass; i++) {
      entries.push({ cls, id: { split: "test", label: "good", index: i }, image: `${cls.name}/test/good/${stem(i)}.png` });
    }
    for (const defect of cls.defects) {
      for (let i = 0; i < counts.testPerDefect; i++) {
        entries.push({
          cls,
          id: { split: "test", label: defect.name, index: i },
          image: `${cls.name}/test/${defect.name}/${stem(i)}.png`,
          mask: `${cls.name}/ground_truth/${defect.name}/${stem(i)}_mask.png`,
        });
      }
    }
  }
  return entries;
}

/** Every folder the layout writes into, parents first. */
export function layoutFolders(entries: readonly LayoutEntry[]): string[] {
  const folders = new Set<string>();
  for (const e of entries) {
    for (const file of e.mask ? [e.image, e.mask] : [e.image]) folders.add(file.slice(0, file.lastIndexOf("/")));
  }
  return [...folders].sort();
}

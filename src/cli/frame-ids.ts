/**
 * The ids `lafite detect` gives the frames it sends: a file's name, or its
 * path inside the folder given. Ids name the output lines and the heatmap
 * files, so two frames must not share one: files of the same name from
 * several folders (good/000.png and crack/000.png, given one by one) would
 * print alike and overwrite each other's heatmap.
 */
import path from "node:path";

export interface FrameFile {
  readonly path: string;
  readonly id: string;
}

/**
 * The files with unique ids: an id two or more files share grows by their parent folders, one at a time, until it
 * names one of them (good/000.png, crack/000.png); the same file given twice gets #2, #3 after its path. Unique ids are
 * kept as they are.
 */
export function uniqueFrameIds(files: readonly FrameFile[]): FrameFile[] {
  const resolved = files.map((f) => path.resolve(f.path));
  const parts = resolved.map((r) => r.split(path.sep).filter((p) => p.length > 0));
  const depth = files.map((f) => f.id.split(/[\\/]/).length);
  const ids = files.map((f) => f.id);
  for (;;) {
    const filesOf = new Map<string, Set<string>>();
    ids.forEach((id, i) => filesOf.set(id, (filesOf.get(id) ?? new Set<string>()).add(resolved[i]!)));
    // Those whose id names another file too and that can still grow (a file given twice has nothing to tell it apart).
    const growing = ids.flatMap((id, i) => (filesOf.get(id)!.size > 1 && depth[i]! < parts[i]!.length ? [i] : []));
    if (growing.length === 0) break;
    for (const i of growing) {
      depth[i]!++;
      ids[i] = parts[i]!.slice(-depth[i]!).join("/");
    }
  }
  const seen = new Map<string, number>();
  return files.map((f, i) => {
    const n = (seen.get(ids[i]!) ?? 0) + 1;
    seen.set(ids[i]!, n);
    return { path: f.path, id: n === 1 ? ids[i]! : `${ids[i]}#${n}` };
  });
}

/**
 * A client's class tag (DetectRequest.class_tag, the line's recipe) against
 * the class a frame's features read as. A frame tagged with one of the
 * model's classes is judged as that class; when it reads as another, the
 * daemon's model.classTagMismatch decides its verdict. A unified model knows
 * every class's parts as normal, so a wrong part scores low as any class:
 * `ng` rejects it, `judge` lets its score decide, and `distinct` rejects it
 * unless the two classes look alike to the model (its class means confuse
 * their held-out normals, memory/class-means.ts alikeClasses): there a
 * reading says nothing of a wrong part, and rejecting it would flag good
 * frames by chance (the realistic suite's kit, whose frames are the
 * assembly's with one part of another material: 11 of its 20 good test
 * frames read as the assembly). Pure.
 */

export const CLASS_TAG_MISMATCH = ["ng", "judge", "distinct"] as const;
export type ClassTagMismatch = (typeof CLASS_TAG_MISMATCH)[number];
/** The daemon's default (config/lafited.yaml model.classTagMismatch), and eval's: a wrong part is rejected. */
export const DEFAULT_CLASS_TAG_MISMATCH: ClassTagMismatch = "ng";

/**
 * Judged as one class (its tag) but read as another: what
 * lafited_frames_class_mismatch_total counts. Both must be known; an empty
 * name (a DetectResponse field left unset) is none, as undefined is.
 */
export function readAsAnotherClass(d: { readonly class?: string | undefined; readonly judgedAs?: string | undefined }): boolean {
  return !!d.judgedAs && !!d.class && d.judgedAs !== d.class;
}

/**
 * NG when the score says anomalous, or when the frame reads as another class than its tag under `ng`, or under
 * `distinct` when that class does not look alike to its tag's (`alike`).
 */
export function isNg(anomalous: boolean, anotherClass: boolean, policy: ClassTagMismatch, alike = false): boolean {
  return anomalous || (anotherClass && (policy === "ng" || (policy === "distinct" && !alike)));
}

/** Whether the model's look-alike classes (ModelInfo.alikeClasses) pair the class a frame was judged as with the one it reads as. */
export function looksAlike(alikeClasses: Readonly<Record<string, readonly string[]>> | undefined, d: { readonly class?: string | undefined; readonly judgedAs?: string | undefined }): boolean {
  return !!d.judgedAs && !!d.class && (alikeClasses?.[d.judgedAs]?.includes(d.class) ?? false);
}

/**
 * A served frame's verdict: NG when its score is over its threshold (`anomalous`), when it is like none of the model's
 * classes (`unlike`: its look or light over the unlike margin), or when its class tag and reading disagree as isNg
 * rules under `policy`, given the model's look-alike classes (ModelInfo.alikeClasses). The daemon's answer and eval
 * both judge by it.
 */
export function frameIsNg(
  d: { readonly class?: string | undefined; readonly judgedAs?: string | undefined; readonly unlike?: boolean | undefined },
  anomalous: boolean,
  policy: ClassTagMismatch,
  alikeClasses: Readonly<Record<string, readonly string[]>> | undefined,
): boolean {
  return isNg(anomalous || d.unlike === true, readAsAnotherClass(d), policy, looksAlike(alikeClasses, d));
}

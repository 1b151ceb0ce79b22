/**
 * A client's class tag (DetectRequest.class_tag, the line's recipe) against
 * the class a frame's features read as. A frame tagged with one of the
 * model's classes is judged as that class; when it reads as another, the
 * daemon's model.classTagMismatch decides its verdict. A unified model knows
 * every class's parts as normal, so a wrong part scores low as any class:
 * `ng` rejects it, `judge` lets its score decide. Pure.
 */

export const CLASS_TAG_MISMATCH = ["ng", "judge"] as const;
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

/** NG when the score says anomalous, or (under `ng`) when the frame reads as another class than its tag. */
export function isNg(anomalous: boolean, anotherClass: boolean, policy: ClassTagMismatch): boolean {
  return anomalous || (anotherClass && policy === "ng");
}

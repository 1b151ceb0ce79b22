/**
 * The ledger of operator feedback: normal frames accepted to train the next
 * job, and confirmed defects that only join the promotion gate's test set.
 * Each record carries its provenance (operator, time, score, threshold and
 * the model version that scored it). Records are never deleted: removal
 * stamps removed_at, so the next job leaves the frame out while versions
 * already made from it keep an honest data snapshot.
 *
 * Recording one frame: guard rails (quota, score ceiling, duplicate by hash)
 * → image written and fsynced → row committed → only then the caller
 * acknowledges.
 */
import { looksAlike, readAsAnotherClass } from "../pipeline/class-tag.js";
import { setByLight } from "../model/memory/class-means.js";
import type { StateDb } from "./state-db.js";
import { isoTime } from "./state-db.js";
import type { ImageStore } from "./image-store.js";
import { faultPoint } from "./fault.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export type FrameKind = "normal" | "defect";

export interface FrameRecord {
  readonly id: number;
  readonly kind: FrameKind;
  readonly sha256: string;
  /** Image path relative to dataDir. */
  readonly file: string;
  readonly classTag: string;
  readonly operator: string;
  readonly note: string;
  readonly frameId: string;
  readonly score: number;
  readonly threshold: number;
  readonly modelVersion: string;
  readonly forced: boolean;
  readonly holdout: boolean;
  readonly createdAt: string;
  readonly removedAt: string | null;
}

/** An encoded image with the score the daemon gave it. */
export interface ScoredImage {
  readonly bytes: Uint8Array;
  readonly score: number;
  readonly threshold: number;
  readonly modelVersion: string;
  readonly frameId?: string;
  readonly classTag?: string;
  /** The class its features read as (DetectResponse.frame_class), when the model reads classes. */
  readonly readAs?: string;
  /** The classes of the model that scored it (GetModelInfo.classes): a tag naming one of them is that class, any other a new one. */
  readonly modelClasses?: readonly string[];
  /** Per class, the classes that look alike to that model (ModelInfo.alikeClasses): a frame tagged with one that reads as the other is no sign of a wrong class. */
  readonly alikeClasses?: Readonly<Record<string, readonly string[]>>;
  /** DetectResponse.look_ratio: how far its look lies from the class it reads as, in that class's reach. */
  readonly lookRatio?: number;
  /** DetectResponse.light_ratio: how far its light lies from its class's range; when it is the look ratio, the light made it unlike. */
  readonly lightRatio?: number;
  /** DetectResponse.unlike_any_class: like none of the model's classes; a normal needs force. */
  readonly unlike?: boolean;
}

export interface RecordRequest {
  readonly kind: FrameKind;
  readonly image: ScoredImage;
  readonly classTag?: string;
  readonly operator?: string;
  readonly note?: string;
  /** Accept a normal frame above the score ceiling, one that reads as another of the model's classes than its tag, or one like none of them. */
  readonly force?: boolean;
}

export type RecordOutcome =
  | { readonly status: "accepted" | "duplicate"; readonly record: FrameRecord; readonly reason: string }
  | { readonly status: "refused"; readonly reason: string; readonly sha256: string; readonly score: number; readonly modelVersion: string };

export interface LedgerPolicy {
  /** Normal frames per UTC day; 0 = no limit. */
  readonly dailyQuota: number;
  /** Normal frames scoring above scoreCeiling × threshold need force. */
  readonly scoreCeiling: number;
  /** Share of normal frames held out of training for the gate (by hash). */
  readonly holdoutShare: number;
}

interface Row {
  id: number;
  kind: FrameKind;
  sha256: string;
  file: string;
  class_tag: string;
  operator: string;
  note: string;
  frame_id: string;
  score: number;
  threshold: number;
  model_version: string;
  forced: number;
  holdout: number;
  created_at: string;
  removed_at: string | null;
}

function toRecord(r: Row): FrameRecord {
  return {
    id: r.id,
    kind: r.kind,
    sha256: r.sha256,
    file: r.file,
    classTag: r.class_tag,
    operator: r.operator,
    note: r.note,
    frameId: r.frame_id,
    score: r.score,
    threshold: r.threshold,
    modelVersion: r.model_version,
    forced: r.forced === 1,
    holdout: r.holdout === 1,
    createdAt: r.created_at,
    removedAt: r.removed_at,
  };
}

/** Stable hold-out pick: the first 32 bits of the hash as a fraction in [0, 1). */
export function isHoldout(sha256: string, share: number): boolean {
  return parseInt(sha256.slice(0, 8), 16) / 2 ** 32 < share;
}

export class Ledger {
  constructor(
    private readonly db: StateDb,
    private readonly images: ImageStore,
    private readonly policy: LedgerPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(req: RecordRequest): Promise<RecordOutcome> {
    const { image, kind } = req;
    if (!Number.isFinite(image.score)) throw new LafiteError(ErrorCode.INVALID_INPUT, "the frame has no finite score");
    const { sha256 } = this.images.locate(image.bytes);
    const refuse = (reason: string): RecordOutcome => ({ status: "refused", reason, sha256, score: image.score, modelVersion: image.modelVersion });

    const existing = this.bySha(sha256);
    if (existing) {
      if (existing.kind !== kind) {
        return refuse(`this image is already recorded as ${existing.kind === "normal" ? "an accepted normal" : "a confirmed defect"} (id ${existing.id}); remove that record first`);
      }
      return { status: "duplicate", record: existing, reason: `already recorded as id ${existing.id}` };
    }
    // What force overrides for a normal frame: a score far above the threshold, or a tag of one model class on a frame that reads as another.
    const tag = req.classTag || image.classTag || "";
    const aboveCeiling = kind === "normal" && image.score > this.policy.scoreCeiling * image.threshold;
    const wrongClass = kind === "normal" && readsAsAnotherModelClass(image, tag);
    // A new product's tag says what the frame is: its frames are unlike every class the model has until a refresh learns them.
    const newClass = tag !== "" && (image.modelClasses?.length ?? 0) > 0 && !image.modelClasses!.includes(tag);
    const unlike = kind === "normal" && image.unlike === true && !newClass;
    if (kind === "normal") {
      const quota = this.policy.dailyQuota;
      if (quota > 0 && this.acceptedToday() >= quota) return refuse(`daily quota of ${quota} accepted normal frames reached (config ledger.dailyQuota); try again tomorrow (UTC)`);
      if (aboveCeiling && !req.force) {
        return refuse(`score ${image.score.toPrecision(4)} is above ${this.policy.scoreCeiling}× the threshold ${image.threshold.toPrecision(4)} of model ${image.modelVersion}: this looks like a real defect; resend with force to accept it anyway`);
      }
      if (wrongClass && !req.force) {
        return refuse(`the frame is tagged ${tag} but reads as ${image.readAs} (model ${image.modelVersion}): a wrong part or a wrong tag; accepted, it would teach the model that ${image.readAs}'s look is normal for ${tag}. Resend with the right class tag, or with force to accept it anyway`);
      }
      if (unlike && !req.force) {
        const cls = image.readAs ?? "its class";
        if (setByLight(image.lookRatio, image.lightRatio)) {
          return refuse(`the frame is lit like none of model ${image.modelVersion}'s classes (its light ${image.lightRatio!.toPrecision(3)} half-ranges from the middle of ${cls}'s normals'): a failed lamp or a wrong exposure? Accepted, it would widen ${cls}'s light range at the next refresh, so frames lit like it pass. Resend with force if the light is meant to be so`);
        }
        const how = image.lookRatio !== undefined ? ` (its look ${image.lookRatio.toPrecision(3)} reaches from ${cls}'s)` : "";
        return refuse(`the frame looks like none of model ${image.modelVersion}'s classes${how}: an empty station, a covered lens or another product? Accepted, it would widen ${image.readAs ?? "its class"}'s reach at the next refresh, so frames like it pass. Resend with force if it is a good part`);
      }
    }

    const stored = await this.images.put(image.bytes);
    faultPoint("accept.after-image-write");
    const holdout = kind === "normal" && isHoldout(sha256, this.policy.holdoutShare);
    const forced = req.force === true && (aboveCeiling || wrongClass || unlike);
    const insert = this.db.transaction((): FrameRecord | undefined => {
      // Re-checked inside the transaction: another call may have recorded the same image meanwhile.
      if (this.bySha(sha256)) return undefined;
      const info = this.db
        .prepare(
          `INSERT INTO frames (kind, sha256, file, class_tag, operator, note, frame_id, score, threshold, model_version, forced, holdout, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(kind, sha256, stored.file, tag, req.operator ?? "", req.note ?? "", image.frameId ?? "", image.score, image.threshold, image.modelVersion, forced ? 1 : 0, holdout ? 1 : 0, isoTime(this.now()));
      return this.get(Number(info.lastInsertRowid));
    });
    const record = insert.immediate();
    faultPoint("accept.after-commit");
    if (record === undefined) {
      const dup = this.bySha(sha256)!;
      return { status: "duplicate", record: dup, reason: `already recorded as id ${dup.id}` };
    }
    return { status: "accepted", record, reason: forced ? `accepted with force (${[aboveCeiling ? "above the score ceiling" : "", wrongClass ? "read as another class" : "", unlike ? "like none of the model's classes" : ""].filter(Boolean).join(", ")})` : "" };
  }

  get(id: number): FrameRecord | undefined {
    const row = this.db.prepare("SELECT * FROM frames WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** The live record of an image, if any. */
  bySha(sha256: string): FrameRecord | undefined {
    const row = this.db.prepare("SELECT * FROM frames WHERE sha256 = ? AND removed_at IS NULL").get(sha256) as Row | undefined;
    return row && toRecord(row);
  }

  list(filter: { kind?: FrameKind; includeRemoved?: boolean; limit?: number } = {}): FrameRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.kind) {
      where.push("kind = ?");
      args.push(filter.kind);
    }
    if (!filter.includeRemoved) where.push("removed_at IS NULL");
    const sql = `SELECT * FROM frames ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ""}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toRecord);
  }

  /** Takes a record back; returns it and whether it changed. */
  remove(id: number, operator = ""): { record: FrameRecord; changed: boolean } {
    const rec = this.get(id);
    if (!rec) throw new LafiteError(ErrorCode.NOT_FOUND, `no accepted or confirmed frame with id ${id}`);
    if (rec.removedAt !== null) return { record: rec, changed: false };
    this.db.prepare("UPDATE frames SET removed_at = ?, removed_by = ? WHERE id = ?").run(isoTime(this.now()), operator, id);
    return { record: this.get(id)!, changed: true };
  }

  /** Live normal frames a job trains on (held-out ones excluded), oldest first. */
  trainingSet(): FrameRecord[] {
    return (this.db.prepare("SELECT * FROM frames WHERE kind = 'normal' AND holdout = 0 AND removed_at IS NULL ORDER BY id").all() as Row[]).map(toRecord);
  }

  /** Live held-out normal frames (the gate's new normals). */
  holdoutNormals(): FrameRecord[] {
    return (this.db.prepare("SELECT * FROM frames WHERE kind = 'normal' AND holdout = 1 AND removed_at IS NULL ORDER BY id").all() as Row[]).map(toRecord);
  }

  /** Live confirmed defects (the gate's defect set). */
  defects(): FrameRecord[] {
    return (this.db.prepare("SELECT * FROM frames WHERE kind = 'defect' AND removed_at IS NULL ORDER BY id").all() as Row[]).map(toRecord);
  }

  /** Every image file a record names (removed ones too: versions made from them keep provenance). */
  referencedFiles(): Set<string> {
    return new Set((this.db.prepare("SELECT DISTINCT file FROM frames").all() as { file: string }[]).map((r) => r.file));
  }

  private acceptedToday(): number {
    const start = new Date(`${isoTime(this.now()).slice(0, 10)}T00:00:00.000Z`);
    const end = new Date(start.getTime() + 24 * 3600 * 1000);
    // Removed frames count too: taking a frame back does not refill the day's quota.
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM frames WHERE kind = 'normal' AND created_at >= ? AND created_at < ?").get(isoTime(start), isoTime(end)) as { n: number };
    return row.n;
  }
}

/**
 * Tagged with one of the model's classes but read as another that the model tells apart from it (a new class's tag,
 * a model that reads no classes, and two classes that look alike to the model, whose frames it reads as either, are never that).
 */
function readsAsAnotherModelClass(image: ScoredImage, tag: string): boolean {
  const d = { class: image.readAs, judgedAs: (image.modelClasses ?? []).includes(tag) ? tag : undefined };
  return readAsAnotherClass(d) && !looksAlike(image.alikeClasses, d);
}

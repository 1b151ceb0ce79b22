/**
 * The classes of the realistic suite, each aimed at a weak spot of the
 * factory suite (see each file's header). Together, at full scale: 1,625
 * training images, from 25 (sheet_hires) to 700 (cast_tile).
 */
import { assembly } from "./assembly.js";
import { kit } from "./kit.js";
import { glassPlate } from "./glass-plate.js";
import { castTile } from "./cast-tile.js";
import { dyedCloth } from "./dyed-cloth.js";
import { nutGray } from "./nut-gray.js";
import { sheetHires } from "./sheet-hires.js";
import type { RealisticClass } from "./types.js";
import { veneer } from "./veneer.js";

export const REALISTIC_CLASSES: readonly RealisticClass[] = [sheetHires, castTile, nutGray, veneer, dyedCloth, assembly];

/** Classes made only when named (`lafite synth --class`, `bench:quality --with`): not part of the default suite, whose figures earlier sessions compare against. */
export const OPTIONAL_REALISTIC_CLASSES: readonly RealisticClass[] = [kit, glassPlate];

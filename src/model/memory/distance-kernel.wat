;; The coreset selection's distance loops (coreset.ts) in WebAssembly SIMD.
;;
;; Every distance is computed exactly as row-distance.ts's sqDistAt computes
;; it in JavaScript: each float32 is widened to float64, the differences are
;; squared and summed in float64 in four running sums (elements 0, 1, 2, 3
;; mod 4), and the sums are added as s0 + s1 + (s2 + s3). The two f64x2
;; accumulators hold (s0, s1) and (s2, s3), so results are bit for bit those
;; of the JavaScript kernels, which stay the reference (test/model/memory/
;; distance-kernel.test.ts compares them). Widening is what costs here: an
;; eight-wide loop measured no faster than this four-wide one.
;;
;; All pointers are byte offsets into the imported memory; rows are d float32
;; values, distances float64, owners and picks int32. The memory is shared so
;; that worker threads run the same loops over their own chunks of rows.
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; Row–center distances measured by the last updatePruned call on this instance (thread).
  (global $measured (mut i32) (i32.const 0))

  ;; ‖a − b‖² for the float32 rows at byte offsets a and b, d values each.
  (func $sq (param $a i32) (param $b i32) (param $d i32) (result f64)
    (local $lo v128) (local $hi v128) (local $va v128) (local $vb v128) (local $e v128)
    (local $end i32) (local $t i32) (local $s0 f64) (local $x f64)
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.and (local.get $d) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load (local.get $b)))
        ;; elements 0 and 1
        (local.set $e (f64x2.sub (f64x2.promote_low_f32x4 (local.get $va)) (f64x2.promote_low_f32x4 (local.get $vb))))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $e) (local.get $e))))
        ;; elements 2 and 3, moved down to be widened
        (local.set $e (f64x2.sub
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $va) (local.get $va)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vb) (local.get $vb)))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $e) (local.get $e))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $four)))
    ;; The d mod 4 last values go into s0, as in sqDistAt.
    (local.set $s0 (f64x2.extract_lane 0 (local.get $lo)))
    (local.set $t (i32.and (local.get $d) (i32.const 3)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.eqz (local.get $t)))
        (local.set $x (f64.sub (f64.promote_f32 (f32.load (local.get $a))) (f64.promote_f32 (f32.load (local.get $b)))))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul (local.get $x) (local.get $x))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $t (i32.sub (local.get $t) (i32.const 1)))
        (br $tail)))
    (f64.add
      (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $lo)))
      (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))

  (func (export "sqDist") (param $a i32) (param $b i32) (param $d i32) (result f64)
    (call $sq (local.get $a) (local.get $b) (local.get $d)))

  (func (export "measured") (result i32) (global.get $measured))

  ;; coreset.ts updateMinDistances: minDist[i] = min(minDist[i], ‖row i − row center‖²) for rows [lo, hi);
  ;; returns the row of the largest minDist, lowest index on ties.
  (func (export "update") (param $points i32) (param $d i32) (param $minDist i32) (param $center i32) (param $lo i32) (param $hi i32) (result i32)
    (local $i i32) (local $row i32) (local $stride i32) (local $c i32) (local $at i32)
    (local $dist f64) (local $m f64) (local $best i32) (local $bestValue f64)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $c (i32.add (local.get $points) (i32.mul (local.get $center) (local.get $stride))))
    (local.set $row (i32.add (local.get $points) (i32.mul (local.get $lo) (local.get $stride))))
    (local.set $i (local.get $lo))
    (local.set $best (local.get $lo))
    (local.set $bestValue (f64.const -1))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $hi)))
        (local.set $dist (call $sq (local.get $row) (local.get $c) (local.get $d)))
        (local.set $at (i32.add (local.get $minDist) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $m (f64.load (local.get $at)))
        (if (f64.lt (local.get $dist) (local.get $m))
          (then
            (local.set $m (local.get $dist))
            (f64.store (local.get $at) (local.get $dist))))
        (if (f64.gt (local.get $m) (local.get $bestValue))
          (then
            (local.set $bestValue (local.get $m))
            (local.set $best (local.get $i))))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (local.get $best))

  ;; coreset.ts updateMinDistancesPruned: as update, but row i (nearest pick owner[i] at squared distance m) is
  ;; measured only when it has no owner or pickDist[owner[i]] < skipFactor · m; a measured row that comes closer
  ;; takes `pick` as its owner. skipFactor is the JavaScript kernel's 4 · PRUNE_MARGIN, passed in so both round
  ;; the product alike. The rows measured are left in `measured`.
  (func (export "updatePruned")
    (param $points i32) (param $d i32) (param $minDist i32) (param $owner i32) (param $pickDist i32)
    (param $center i32) (param $pick i32) (param $lo i32) (param $hi i32) (param $skipFactor f64) (result i32)
    (local $i i32) (local $row i32) (local $stride i32) (local $c i32) (local $at i32) (local $a i32) (local $count i32)
    (local $dist f64) (local $m f64) (local $best i32) (local $bestValue f64)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $c (i32.add (local.get $points) (i32.mul (local.get $center) (local.get $stride))))
    (local.set $row (i32.add (local.get $points) (i32.mul (local.get $lo) (local.get $stride))))
    (local.set $i (local.get $lo))
    (local.set $best (local.get $lo))
    (local.set $bestValue (f64.const -1))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $hi)))
        (local.set $at (i32.add (local.get $minDist) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $m (f64.load (local.get $at)))
        (local.set $a (i32.load (i32.add (local.get $owner) (i32.shl (local.get $i) (i32.const 2)))))
        (if (if (result i32) (i32.lt_s (local.get $a) (i32.const 0))
              (then (i32.const 1))
              (else (f64.lt
                (f64.load (i32.add (local.get $pickDist) (i32.shl (local.get $a) (i32.const 3))))
                (f64.mul (local.get $skipFactor) (local.get $m)))))
          (then
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $dist (call $sq (local.get $row) (local.get $c) (local.get $d)))
            (if (f64.lt (local.get $dist) (local.get $m))
              (then
                (local.set $m (local.get $dist))
                (f64.store (local.get $at) (local.get $dist))
                (i32.store (i32.add (local.get $owner) (i32.shl (local.get $i) (i32.const 2))) (local.get $pick))))))
        (if (f64.gt (local.get $m) (local.get $bestValue))
          (then
            (local.set $bestValue (local.get $m))
            (local.set $best (local.get $i))))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (global.set $measured (local.get $count))
    (local.get $best))

  ;; coreset.ts distancesToPicks: pickDist[j] = ‖row picks[count] − row picks[j]‖² for j in [lo, hi).
  (func (export "pickDistances")
    (param $points i32) (param $d i32) (param $picks i32) (param $pickDist i32) (param $count i32) (param $lo i32) (param $hi i32)
    (local $j i32) (local $stride i32) (local $c i32)
    (local.set $stride (i32.shl (local.get $d) (i32.const 2)))
    (local.set $c (i32.add (local.get $points)
      (i32.mul (i32.load (i32.add (local.get $picks) (i32.shl (local.get $count) (i32.const 2)))) (local.get $stride))))
    (local.set $j (local.get $lo))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $hi)))
        (f64.store
          (i32.add (local.get $pickDist) (i32.shl (local.get $j) (i32.const 3)))
          (call $sq
            (i32.add (local.get $points)
              (i32.mul (i32.load (i32.add (local.get $picks) (i32.shl (local.get $j) (i32.const 2)))) (local.get $stride)))
            (local.get $c)
            (local.get $d)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))))
